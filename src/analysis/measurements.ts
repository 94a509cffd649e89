// What the shell measured for one release in one evaluation round, in a form
// the pure gate evaluation can read without knowing about Prometheus.
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
