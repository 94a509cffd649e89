// Where a subset's requests fall in Istio's histogram buckets, computed from
// its latency behaviour instead of drawn request by request: the share of
// requests at or below each bucket bound under the same log-normal fit that
// sampling.ts draws from (median p50, 99th percentile p99). The static mode
// multiplies these shares by request counts.
import { fitLogNormal } from './sampling.js';

/** Abramowitz and Stegun 7.1.26: |error| < 1.5e-7, plenty for bucket shares. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** P(latency <= ms) for the log-normal fitted to p50/p99; a step at p50 when p99 <= p50. */
export function latencyCdf(latencyMs: { p50: number; p99: number }, ms: number): number {
  if (!(ms > 0)) return 0;
  const { mu, sigma } = fitLogNormal(latencyMs.p50, latencyMs.p99);
  if (sigma === 0) return ms >= latencyMs.p50 ? 1 : 0;
  const share = 0.5 * (1 + erf((Math.log(ms) - mu) / (sigma * Math.SQRT2)));
  return Math.min(1, Math.max(0, share));
}

/** The cumulative share of requests at or below each bound (non-decreasing, at most 1). */
export function cumulativeBucketShares(latencyMs: { p50: number; p99: number }, bounds: readonly number[]): number[] {
  let previous = 0;
  return bounds.map((le) => (previous = Math.max(previous, latencyCdf(latencyMs, le))));
}

/** The share of requests in each bucket on its own, then above the highest bound (sums to 1). */
export function perBucketShares(latencyMs: { p50: number; p99: number }, bounds: readonly number[]): number[] {
  const cumulative = cumulativeBucketShares(latencyMs, bounds);
  return [...cumulative, 1].map((share, i) => share - (i === 0 ? 0 : cumulative[i - 1]!));
}

/** Mean latency of the fit (for the histogram's _sum): exp(mu + sigma^2 / 2). */
export function meanLatencyMs(latencyMs: { p50: number; p99: number }): number {
  const { mu, sigma } = fitLogNormal(latencyMs.p50, latencyMs.p99);
  return Math.exp(mu + (sigma * sigma) / 2);
}
