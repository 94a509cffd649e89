// The project's gates as they run today, on simulated traffic: each round
// measures the window as Prometheus would (increase() counts; histogram_quantile
// over the window's buckets for pXX), then evaluateGates/roundVerdict, the hold
// and failure rules of recordRound, and evidenceAllowsAdvance decide. This is
// the one place to re-point when those rules change.
import { evaluateGates, roundVerdict } from '../../src/analysis/evaluate-gates.js';
import type { ReleaseMeasurements } from '../../src/analysis/measurements.js';
import type { AnalysisSpec } from '../../src/api/analysis-spec.js';
import type { AnalysisStatus } from '../../src/api/analysis-status.js';
import { Reason } from '../../src/api/conditions.js';
import { evidenceAllowsAdvance, recordRound } from '../../src/core/analysis-rules.js';
import { histogramQuantile } from './histogram-quantile.js';
import type { ReleaseJudge } from './release-judge.js';
import { BOUNDARIES_MS, type SimulatedTraffic } from './simulated-traffic.js';

const SUBSETS = { stable: 'v1', canary: 'v2' };
/** Wall-clock time of the canary's first traffic: a round boundary, as the operator's rounds are. */
const RELEASE_START = Date.UTC(2025, 0, 1);

export function todaysGatesJudge(spec: AnalysisSpec, windowMs: number): ReleaseJudge {
  let last: AnalysisStatus | undefined;
  let stepStartedAt = '';
  return {
    startStep(t) {
      // The reconciler writes stepStartedAt just after the round that ended the previous step.
      stepStartedAt = new Date(RELEASE_START + t + 1).toISOString();
    },
    round(ctx, traffic) {
      const m = measure(spec, traffic.window(ctx.t - windowMs, ctx.t));
      const results = evaluateGates(spec, m, SUBSETS);
      const outcome = recordRound(spec, last, { evaluatedAt: new Date(RELEASE_START + ctx.t), results, verdict: roundVerdict(results) }, SUBSETS);
      last = outcome.analysis;
      if (outcome.failure) return { fail: outcome.failure.reason === Reason.AnalysisFailed ? 'gates' : 'inconclusive', advance: false };
      return { advance: ctx.stepTimeIsUp && evidenceAllowsAdvance(last, stepStartedAt) };
    },
  };
}

function measure(spec: AnalysisSpec, w: ReturnType<SimulatedTraffic['window']>): ReleaseMeasurements {
  const latency: ReleaseMeasurements['latency'] = {};
  for (const g of spec.gates) {
    if (!g.latency) continue;
    const q = g.latency.percentile / 100;
    latency[g.name] = {
      ok: true,
      value: { canary: histogramQuantile(q, BOUNDARIES_MS, w.canary.cumulativeBuckets), stable: histogramQuantile(q, BOUNDARIES_MS, w.stable.cumulativeBuckets) },
    };
  }
  return {
    requests: { ok: true, value: { canary: { total: w.canary.requests, errors: w.canary.errors }, stable: { total: w.stable.requests, errors: w.stable.errors } } },
    latency,
    custom: {},
    queries: {},
  };
}
