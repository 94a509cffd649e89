// One simulated release's world: the service's traffic, the stable subset's
// error rate and latency, the canary's regression (if any), and the noise and
// bursts they share, all drawn from one seed.
import { mulberry32, type Rng } from '../../tools/mesh-simulator/rng.js';

export interface CanaryKind {
  name: string;
  /** Canary's baseline error rate as a multiple of stable's (1 = healthy). */
  errorRatio: number;
  /** Canary's p99 as a multiple of stable's, p50 unchanged (1 = healthy). */
  p99Factor: number;
}

export const CANARY_KINDS: readonly CanaryKind[] = [
  { name: 'healthy', errorRatio: 1, p99Factor: 1 },
  /** At the sequential errors gate's default tolerance: rolling it back counts against falseRollbackRate. */
  { name: 'errors 1.2x (tolerated)', errorRatio: 1.2, p99Factor: 1 },
  { name: 'errors 1.5x', errorRatio: 1.5, p99Factor: 1 },
  { name: 'errors 2x', errorRatio: 2, p99Factor: 1 },
  { name: 'errors 5x', errorRatio: 5, p99Factor: 1 },
  { name: 'p99 +20%', errorRatio: 1, p99Factor: 1.2 },
  { name: 'p99 +50%', errorRatio: 1, p99Factor: 1.5 },
  { name: 'p99 +100%', errorRatio: 1, p99Factor: 2 },
];

/** Requests per second of the whole service (stable + canary). */
export const TRAFFIC_LEVELS = [0.05, 0.2, 1, 5, 20, 100, 500] as const;

export interface Burst {
  fromSlot: number;
  toSlot: number;
  /** Error rate added to both subsets (a shared dependency failing). */
  extraErrorRate: number;
  /** Latency multiplier for both subsets. */
  latencyFactor: number;
}

export interface ReleaseScenario {
  seed: number;
  requestsPerSecond: number;
  kind: CanaryKind;
  /** Stable's baseline 5xx share, before noise and bursts. */
  stableErrorRate: number;
  stableP50Ms: number;
  stableP99Ms: number;
  bursts: Burst[];
}

const logUniform = (rng: Rng, lo: number, hi: number) => Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo)));

/**
 * Draws the world of one release; `slots` is how many noise slots the release
 * may last. The same seed gives the same world (traffic, stable, noise,
 * bursts) whatever the canary kind, so kinds can be compared release by release.
 */
export function drawScenario(seed: number, requestsPerSecond: number, kind: CanaryKind, slots: number): ReleaseScenario {
  const rng = mulberry32(seed);
  // Stable error rates from 0 to 5%; a regression needs a baseline to multiply, so error kinds never take the 0.
  const zeroDraw = rng.next();
  const rateDraw = logUniform(rng, 0.0001, 0.05);
  const stableErrorRate = kind.errorRatio === 1 && zeroDraw < 0.1 ? 0 : rateDraw;
  const stableP99Ms = logUniform(rng, 20, 400);
  const stableP50Ms = stableP99Ms / logUniform(rng, 2.5, 8);
  const bursts: Burst[] = [];
  // About one burst per 20 minutes, 10 to 60 seconds long.
  for (let s = 0; s < slots; s++) {
    if (rng.next() < 1 / 120) {
      const length = 1 + Math.floor(rng.next() * 6);
      bursts.push({ fromSlot: s, toSlot: s + length, extraErrorRate: logUniform(rng, 0.005, 0.2), latencyFactor: 1.2 + rng.next() * 1.3 });
      s += length;
    }
  }
  return { seed, requestsPerSecond, kind, stableErrorRate, stableP50Ms, stableP99Ms, bursts };
}
