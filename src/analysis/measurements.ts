// What the shell measured for one release in one evaluation round, in a form
// the pure gate evaluation can read without knowing about Prometheus.
import type { BucketCount } from './sequential/slow-requests.js';

export interface RequestCounts {
  total: number;
  errors: number;
}

export type Measured<T> = { ok: true; value: T } | { ok: false; message: string };

export interface ReleaseMeasurements {
  /** Requests (and 5xx) in the window, per subset. */
  requests: Measured<{ canary: RequestCounts; stable: RequestCounts }>;
  /** Latency percentile in ms per gate name (NaN without data). */
  latency: Record<string, Measured<{ canary: number; stable: number }>>;
  /** Custom query result per gate name (undefined without data). */
  custom: Record<string, Measured<number | undefined>>;
  /** The per-release PromQL of each gate, for status. */
  queries: Record<string, string>;
}

/**
 * What the shell counted for the sequential gates over one batch, the time
 * from `from` to the round's evaluation time: the core adds it to the
 * evidence in status and judges.
 */
export interface SequentialMeasurements {
  from: Date;
  /** Requests and 5xx per subset (errorRate gates). */
  requests?: Measured<{ canary: RequestCounts; stable: RequestCounts }> | undefined;
  /** Each subset's cumulative duration histogram over the batch (latency gates); empty for a subset without requests. */
  histograms?: Measured<{ canary: BucketCount[]; stable: BucketCount[] }> | undefined;
  /** Stable's histogram over the hour before `from`, while a latency gate has no boundary yet. */
  stableHistory?: Measured<BucketCount[]> | undefined;
  /** The per-release PromQL of each sequential gate, for status. */
  queries: Record<string, string>;
}
