// Latency as counts, so the sequential test can judge it like errors: the
// requests slower than one bucket boundary of Istio's duration histogram.
// The boundary is chosen from stable data taken before the release (the
// histogram over a lookback window before the canary got traffic): chosen
// from the data under test, it would bias the comparison.

/** One cumulative histogram bucket: requests that took at most `le` ms (le = Infinity for +Inf). */
export interface BucketCount {
  le: number;
  count: number;
}

/**
 * The finite boundary whose share of slower stable requests is closest (in
 * ratio) to 1 - percentile/100, e.g. near 1% for p99. undefined when the
 * stable subset had fewer than 100/(100 - percentile) requests (one expected
 * slow request) or no slow request above any boundary.
 */
export function slowBoundaryMs(stable: readonly BucketCount[], percentile: number): number | undefined {
  if (!(percentile > 0 && percentile < 100)) throw new RangeError(`percentile must be between 0 and 100, got ${percentile}`);
  const target = 1 - percentile / 100;
  const total = totalOf(stable);
  if (total === undefined || total < 1 / target) return undefined;
  let best: { le: number; miss: number } | undefined;
  for (const b of stable) {
    if (!Number.isFinite(b.le)) continue;
    const slowShare = (total - b.count) / total;
    if (slowShare <= 0) continue;
    const miss = Math.abs(Math.log(slowShare / target));
    if (!best || miss < best.miss) best = { le: b.le, miss };
  }
  return best?.le;
}

/** Requests and requests slower than boundaryMs from a cumulative histogram; undefined if it lacks that boundary or +Inf. */
export function slowRequests(buckets: readonly BucketCount[], boundaryMs: number): { requests: number; slow: number } | undefined {
  const requests = totalOf(buckets);
  const atBoundary = buckets.find((b) => b.le === boundaryMs);
  if (requests === undefined || atBoundary === undefined) return undefined;
  return { requests, slow: Math.max(0, requests - atBoundary.count) };
}

function totalOf(buckets: readonly BucketCount[]): number | undefined {
  return buckets.find((b) => b.le === Number.POSITIVE_INFINITY)?.count;
}
