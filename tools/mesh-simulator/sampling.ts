// Drawing one request's outcome from a subset's behaviour: the status code is
// a Bernoulli draw on errorRate, the latency a log-normal fitted to p50/p99
// (median = p50, 99th percentile = p99; p99 <= p50 gives a constant p50).
import type { Behaviour } from './behaviour.js';
import { standardNormal, type Rng } from './rng.js';

/** The 0.99 quantile of the standard normal distribution. */
export const Z99 = 2.3263478740408408;

export interface LogNormal {
  mu: number;
  sigma: number;
}

export function fitLogNormal(p50: number, p99: number): LogNormal {
  const mu = Math.log(p50);
  const sigma = p99 > p50 ? (Math.log(p99) - mu) / Z99 : 0;
  return { mu, sigma };
}

export function sampleLatencyMs(model: LogNormal, rng: Rng): number {
  return Math.exp(model.mu + model.sigma * standardNormal(rng));
}

export function sampleResponseCode(b: Behaviour, rng: Rng): number {
  return rng.next() < b.errorRate ? b.errorCode : 200;
}

export interface Outcome {
  code: number;
  latencyMs: number;
}

/** A sampler for one behaviour (the log-normal fit is done once). */
export function outcomeSampler(b: Behaviour): (rng: Rng) => Outcome {
  const model = fitLogNormal(b.latencyMs.p50, b.latencyMs.p99);
  return (rng) => ({ code: sampleResponseCode(b, rng), latencyMs: sampleLatencyMs(model, rng) });
}
