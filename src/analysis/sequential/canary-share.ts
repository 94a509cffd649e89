// Conditional on how many errors (or slow requests) the two subsets had
// together, the chance that any one of them came from the canary:
//
//   p = rho * theta / (rho * theta + (1 - rho))
//
// rho is the canary's share of the requests and theta the canary/stable
// ratio of error rates. It follows from treating each subset's errors as
// Poisson with mean requests * rate and conditioning on their sum (Lindon &
// Malek, NeurIPS 2022, "Anytime-valid inference for multinomial count data").
// Whatever the stable rate does (noise, bursts, a shared dependency failing),
// it cancels out of p: only rho and theta remain.

/** The probability that one event of a batch is the canary's, for request share rho and ratio theta. */
export function canaryShare(rho: number, theta: number): number {
  if (!(rho > 0 && rho < 1)) throw new RangeError(`canary request share must be strictly between 0 and 1, got ${rho}`);
  if (!(theta >= 0)) throw new RangeError(`error-rate ratio must be at least 0, got ${theta}`);
  if (theta === Number.POSITIVE_INFINITY) return 1;
  return (rho * theta) / (rho * theta + (1 - rho));
}
