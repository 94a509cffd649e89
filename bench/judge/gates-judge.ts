// The project's gates as they run today, on simulated traffic: each round
// measures the window as Prometheus would (increase() counts; histogram_quantile
// over the window's buckets for pXX), then evaluateGates/roundVerdict, the hold
// and failure rules of recordRound, and evidenceAllowsAdvance decide. This is
// the one place to re-point when those rules change.
import { evaluateGates, roundVerdict } from '../../src/analysis/evaluate-gates.js';
import type { ReleaseMeasurements } from '../../src/analysis/measurements.js';
import type { AnalysisSpec } from '../../src/api/analysis-spec.js';
import type { AnalysisStatus } from '../../src/api/analysis-status.js';
import { evidenceAllowsAdvance, recordRound } from '../../src/core/analysis-rules.js';
import { resolveAnalysis, type AnalysisPlan } from '../../src/core/plan.js';
import { histogramQuantile } from './histogram-quantile.js';
import type { ReleaseJudge } from './release-judge.js';
import { BOUNDARIES_MS, type SimulatedTraffic } from './simulated-traffic.js';

const SUBSETS = { stable: 'v1', canary: 'v2' };
/** Wall-clock time of the canary's first traffic: a round boundary, as the operator's rounds are. */
const RELEASE_START = Date.UTC(2025, 0, 1);
const iso = (t: number) => new Date(RELEASE_START + t).toISOString();

/** The analysis plan the operator resolves from these gates (its defaults applied). */
export function analysisPlanOf(spec: AnalysisSpec, intervalMs: number, windowMs: number): AnalysisPlan {
  const plan = resolveAnalysis({ ...spec, interval: `${intervalMs / 1000}s`, window: `${windowMs / 1000}s` });
  if (!plan) throw new Error('no analysis plan');
  return plan;
}

export function todaysGatesJudge(spec: AnalysisSpec, intervalMs: number, windowMs: number): ReleaseJudge {
  const plan = analysisPlanOf(spec, intervalMs, windowMs);
  let last: AnalysisStatus | undefined;
  let stepStartedAt = '';
  return {
    startStep(t) {
      // The reconciler writes stepStartedAt just after the round that ended the previous step.
      stepStartedAt = iso(t + 1);
    },
    round(ctx, traffic) {
      const m = measure(plan, traffic.window(ctx.t - windowMs, ctx.t));
      const results = evaluateGates(plan, m, SUBSETS);
      const at = new Date(RELEASE_START + ctx.t);
      const round = { evaluatedAt: at, measuredFrom: new Date(at.getTime() - windowMs), results, verdict: roundVerdict(results) };
      const outcome = recordRound(plan, last, round, SUBSETS);
      last = outcome.analysis;
      if (outcome.end) return { fail: outcome.end.kind === 'failed' ? 'gates' : 'inconclusive', advance: false };
      return { advance: ctx.stepTimeIsUp && evidenceAllowsAdvance({ analysis: last, stepStartedAt, measureFrom: iso(0) }, at) };
    },
  };
}

function measure(spec: AnalysisPlan, w: ReturnType<SimulatedTraffic['window']>): ReleaseMeasurements {
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
