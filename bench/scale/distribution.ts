// Summaries of measured values: median, p99 and max (nearest rank), and
// timestamps with sub-millisecond digits (audit logs write microseconds).

export interface Distribution {
  count: number;
  median: number;
  p99: number;
  max: number;
}

/** The nearest-rank percentile of sorted values: the smallest value with at least p% at or below it. */
function rank(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** undefined for no values. */
export function distribution(values: readonly number[]): Distribution | undefined {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  return { count: finite.length, median: rank(finite, 50), p99: rank(finite, 99), max: finite[finite.length - 1]! };
}

/** Epoch milliseconds (with fractions) of an RFC 3339 time such as 2026-12-01T11:03:03.144123Z; NaN when it is not one. */
export function parseTime(text: string | undefined): number {
  if (!text) return Number.NaN;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return Number.NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  const fraction = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + fraction;
}
