// Shared builders for the analysis unit tests: specs, measurements, rounds
// and a fake MetricsQuerier that answers with Istio-shaped series.
import type { AnalysisSpec, Gate } from '../../../src/api/analysis-spec.js';
import { evaluateGates, roundVerdict } from '../../../src/analysis/evaluate-gates.js';
import type { Measured, ReleaseMeasurements, RequestCounts, SequentialMeasurements } from '../../../src/analysis/measurements.js';
import type { MetricsQuerier, QueryResult, Sample } from '../../../src/analysis/prometheus/client.js';
import type { AnalysisRound } from '../../../src/core/analysis-rules.js';
import { resolveAnalysis, type AnalysisPlan } from '../../../src/core/plan.js';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import { NS, at } from '../release-fixtures.js';

export const PROM = 'http://prometheus.istio-system:9090';
export const SUBSETS = { stable: 'v1', canary: 'v2' };

export function analysisSpec(gates: Gate[], extra: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return { prometheus: { address: PROM }, gates, ...extra };
}

/** The resolved analysis plan of a spec (defaults applied, durations in ms), as the operator uses it. */
export function planOfAnalysis(spec: AnalysisSpec): AnalysisPlan {
  return resolveAnalysis(spec) as AnalysisPlan;
}

/** The plan for some gates, like analysisSpec. */
export function analysisPlan(gates: Gate[], extra: Partial<AnalysisSpec> = {}): AnalysisPlan {
  return planOfAnalysis(analysisSpec(gates, extra));
}

export interface MeasureOptions {
  canary?: RequestCounts;
  stable?: RequestCounts;
  requestsError?: string;
  latency?: Record<string, Measured<{ canary: number; stable: number }>>;
  custom?: Record<string, Measured<number | undefined>>;
  queries?: Record<string, string>;
}

/** Measurements with 1000 stable and 100 canary requests and no errors unless told otherwise. */
export function measured(o: MeasureOptions = {}): ReleaseMeasurements {
  return {
    requests: o.requestsError !== undefined
      ? { ok: false, message: o.requestsError }
      : { ok: true, value: { canary: o.canary ?? { total: 100, errors: 0 }, stable: o.stable ?? { total: 1000, errors: 0 } } },
    latency: o.latency ?? {},
    custom: o.custom ?? {},
    queries: o.queries ?? {},
  };
}

export const ok = <T>(value: T): Measured<T> => ({ ok: true, value });
export const failed = (message: string): Measured<never> => ({ ok: false, message });

/** A round as the runner would produce it for these measurements, its window ending at `evaluatedAt`. */
export function roundOf(spec: AnalysisSpec, m: ReleaseMeasurements, evaluatedAt: Date): AnalysisRound {
  const plan = planOfAnalysis(spec);
  const results = evaluateGates(plan, m, SUBSETS);
  return { evaluatedAt, measuredFrom: new Date(evaluatedAt.getTime() - plan.windowMs), results, verdict: roundVerdict(results) };
}

/**
 * A round of sequential gates alone, counting the batch (from, to] (seconds
 * from NOW) with these [5xx, requests] of the canary and of stable.
 */
export function sequentialRound(from: number, to: number, canary: [number, number], stable: [number, number], more: Partial<SequentialMeasurements> = {}): AnalysisRound {
  return {
    evaluatedAt: at(to), measuredFrom: at(from), results: [], verdict: GateVerdict.Pass,
    sequential: {
      from: at(from),
      requests: ok({ canary: { errors: canary[0], total: canary[1] }, stable: { errors: stable[0], total: stable[1] } }),
      queries: {},
      ...more,
    },
  };
}

// ---- a fake Prometheus at the MetricsQuerier seam -------------------------

export interface SeenQuery {
  address: string;
  promql: string;
  timeoutMs: number;
  at?: Date | undefined;
}

/** One istio_requests_total series of a requestCountsQuery answer. */
export function requestSeries(service: string, version: string, code: string, value: number, namespace = NS): Sample {
  return {
    labels: { destination_service_namespace: namespace, destination_service_name: service, destination_version: version, response_code: code },
    value,
  };
}

/** One series of a latencyQuery answer (milliseconds). */
export function latencySeries(service: string, version: string, value: number, namespace = NS): Sample {
  return { labels: { destination_service_namespace: namespace, destination_service_name: service, destination_version: version }, value };
}

export interface CannedAnswers {
  requests?: Sample[] | QueryResult;
  /** By quantile as written in the PromQL, e.g. "0.99". */
  latency?: Record<string, Sample[] | QueryResult>;
  /** Any other (custom) query. */
  custom?: (promql: string) => QueryResult;
}

const vector = (samples: Sample[]): QueryResult => ({ ok: true, resultType: 'vector', samples });
const asResult = (a: Sample[] | QueryResult): QueryResult => (Array.isArray(a) ? vector(a) : a);

/** Records every query and answers with canned Istio-shaped series. */
export class FakeQuerier implements MetricsQuerier {
  readonly calls: SeenQuery[] = [];
  constructor(private readonly answers: CannedAnswers = {}) {}

  query(address: string, promql: string, timeoutMs: number, at?: Date): Promise<QueryResult> {
    this.calls.push({ address, promql, timeoutMs, at });
    return Promise.resolve(this.answer(promql));
  }

  private answer(promql: string): QueryResult {
    if (promql.startsWith('sum by (') && promql.includes('istio_requests_total')) return asResult(this.answers.requests ?? []);
    const q = /^histogram_quantile\(([0-9.]+), sum by \(destination_service_namespace/.exec(promql);
    if (q) return asResult(this.answers.latency?.[q[1] as string] ?? []);
    return this.answers.custom?.(promql) ?? { ok: true, resultType: 'scalar', samples: [{ labels: {}, value: 1 }] };
  }
}
