// The project's gates on simulated traffic, through the operator's own rules:
// each round measures what Prometheus would answer (increase() counts, and
// histogram_quantile over the window's buckets for pXX; for sequential gates
// the counts of the batch countingFor asks for), then evaluateGates, recordRound
// (which judges sequential gates on the evidence in status) and
// evidenceAllowsAdvance decide, as decide() does. This is the one place to
// re-point when those rules change.
import { measuredFromOf } from '../../src/analysis/analysis-runner.js';
import { evaluateGates, roundVerdict } from '../../src/analysis/evaluate-gates.js';
import type { ReleaseMeasurements, SequentialMeasurements } from '../../src/analysis/measurements.js';
import type { BucketCount } from '../../src/analysis/sequential/slow-requests.js';
import type { AnalysisSpec } from '../../src/api/analysis-spec.js';
import type { CanaryReleaseStatus } from '../../src/api/status.js';
import { evidenceAllowsAdvance, recordRound } from '../../src/core/analysis-rules.js';
import { resolveAnalysis, type AnalysisPlan } from '../../src/core/plan.js';
import { countingFor } from '../../src/core/sequential-counting.js';
import { histogramQuantile } from './histogram-quantile.js';
import type { ReleaseJudge } from './release-judge.js';
import { BOUNDARIES_MS, SLOT_MS, type SimulatedTraffic, type SubsetWindow, type TrafficWindow } from './simulated-traffic.js';

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

/**
 * The gates of `spec`, windowed or sequential or both. `tune` may change the
 * resolved plan (the sequential constants the spec does not expose).
 */
export function gatesJudge(spec: AnalysisSpec, intervalMs: number, windowMs: number, tune: (p: AnalysisPlan) => AnalysisPlan = (p) => p): ReleaseJudge {
  const plan = tune(analysisPlanOf(spec, intervalMs, windowMs));
  const windowed = plan.gates.some((g) => !g.sequential);
  const status: CanaryReleaseStatus = { phase: 'Progressing', canaryWeight: 1, measureFrom: iso(0) };
  return {
    startStep(t) {
      // The reconciler writes stepStartedAt just after the round that ended the previous step.
      status.stepStartedAt = iso(t + 1);
    },
    round(ctx, traffic) {
      const at = new Date(RELEASE_START + ctx.t);
      const counting = countingFor(plan, status, at);
      const results = windowed ? evaluateGates(plan, measure(plan, traffic.window(ctx.t - windowMs, ctx.t)), SUBSETS) : [];
      const sequential = counting && count(plan, counting, traffic, ctx.t);
      const round = { evaluatedAt: at, measuredFrom: measuredFromOf(plan, at, counting?.from), results, verdict: roundVerdict(results), sequential };
      const outcome = recordRound(plan, status.analysis, round, SUBSETS, { startedAt: status.stepStartedAt, timeIsUp: ctx.stepTimeIsUp });
      status.analysis = outcome.analysis;
      if (outcome.end) return { fail: outcome.end.kind === 'failed' ? 'gates' : 'inconclusive', advance: false };
      // As decide(): before the step's time is up, only an early pass on sequential evidence ends it.
      return { advance: evidenceAllowsAdvance(status, at, !ctx.stepTimeIsUp) };
    },
  };
}

/** Today's windowed gates (the name the benchmark's rows and tests use). */
export const todaysGatesJudge = (spec: AnalysisSpec, intervalMs: number, windowMs: number): ReleaseJudge => gatesJudge(spec, intervalMs, windowMs);

function measure(spec: AnalysisPlan, w: TrafficWindow): ReleaseMeasurements {
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

/**
 * What the runner's count() would return for the batch: the simulation keeps
 * 10 s slots, so a batch from just after a step began (stepStartedAt + 1 ms)
 * starts at that step's slot, where its weight took effect.
 */
function count(plan: AnalysisPlan, counting: { from: Date; boundariesMs: Record<string, number> }, traffic: SimulatedTraffic, t: number): SequentialMeasurements {
  const fromMs = Math.floor((counting.from.getTime() - RELEASE_START) / SLOT_MS) * SLOT_MS;
  const w = traffic.window(fromMs, t);
  const m: SequentialMeasurements = {
    from: counting.from,
    requests: { ok: true, value: { canary: { total: w.canary.requests, errors: w.canary.errors }, stable: { total: w.stable.requests, errors: w.stable.errors } } },
    histograms: { ok: true, value: { canary: bucketsOf(w.canary), stable: bucketsOf(w.stable) } },
    queries: {},
  };
  if (plan.sequential.some((g) => g.kind === 'slow' && counting.boundariesMs[g.name] === undefined)) {
    // The simulation's stable history is the hour before the release (the runner asks for the hour before the batch).
    m.stableHistory = { ok: true, value: asBuckets(traffic.stableLookback()) };
  }
  return m;
}

const bucketsOf = (w: SubsetWindow): BucketCount[] => (w.requests > 0 ? asBuckets(w.cumulativeBuckets) : []);

function asBuckets(cumulative: Float64Array): BucketCount[] {
  return Array.from(cumulative, (n, i) => ({ le: BOUNDARIES_MS[i] ?? Number.POSITIVE_INFINITY, count: n }));
}
