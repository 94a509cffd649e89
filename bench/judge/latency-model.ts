// Request latency as a log-normal fitted to a p50 and a p99, and the share of
// requests falling into each bucket of Istio's duration histogram.

/** The 0.99 quantile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

export interface LogNormal {
  mu: number;
  sigma: number;
}

export function fitLogNormal(p50Ms: number, p99Ms: number): LogNormal {
  return { mu: Math.log(p50Ms), sigma: Math.max(1e-6, (Math.log(p99Ms) - Math.log(p50Ms)) / Z99) };
}

/** Probability of each bucket (le boundaries, then +Inf), for a log-normal whose scale is multiplied by `scale`. */
export function bucketShares(model: LogNormal, boundariesMs: readonly number[], scale: number, into: Float64Array): Float64Array {
  const shift = Math.log(scale);
  let below = 0;
  for (let i = 0; i < boundariesMs.length; i++) {
    const cdf = normalCdf((Math.log(boundariesMs[i] as number) - model.mu - shift) / model.sigma);
    into[i] = Math.max(0, cdf - below);
    below = Math.max(below, cdf);
  }
  into[boundariesMs.length] = Math.max(0, 1 - below);
  return into;
}

/** Φ(x) from the complementary error function's Chebyshev fit (Numerical Recipes' erfcc, relative error < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}
