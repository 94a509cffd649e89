// Prometheus' histogram_quantile over cumulative bucket counts: find the
// bucket holding the rank q * total and interpolate linearly inside it; the
// +Inf bucket answers with the highest finite boundary; no requests is NaN.

export function histogramQuantile(q: number, boundariesMs: readonly number[], cumulative: ArrayLike<number>): number {
  const last = boundariesMs.length; // cumulative[last] is the +Inf bucket
  const total = cumulative[last] as number;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let i = 0;
  while (i < last && (cumulative[i] as number) < rank) i++;
  if (i === last) return boundariesMs[last - 1] as number;
  const start = i === 0 ? 0 : (boundariesMs[i - 1] as number);
  const before = i === 0 ? 0 : (cumulative[i - 1] as number);
  const inBucket = (cumulative[i] as number) - before;
  return start + ((boundariesMs[i] as number) - start) * (inBucket > 0 ? (rank - before) / inBucket : 1);
}
