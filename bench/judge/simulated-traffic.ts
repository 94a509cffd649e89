// What Prometheus would have recorded for one simulated release: requests,
// 5xx and duration-histogram buckets per subset, in 10-second slots, kept as
// running totals so any window's increase() is a subtraction. The weight in
// force when a slot is generated splits its traffic. Each slot's draws come
// from a stream seeded by (release seed, slot, subset), and the noise and
// bursts are fixed by the scenario, so two judges that keep the same weights
// see the same requests.
import { ISTIO_DURATION_BUCKETS_MS } from '../../tools/mesh-simulator/istio-metrics.js';
import { mulberry32, standardNormal, type Rng } from '../../tools/mesh-simulator/rng.js';
import { binomial, poisson } from './count-sampling.js';
import { bucketShares, fitLogNormal, type LogNormal } from './latency-model.js';
import type { ReleaseScenario } from './release-scenario.js';

export const SLOT_MS = 10_000;
export const BOUNDARIES_MS: readonly number[] = ISTIO_DURATION_BUCKETS_MS;
const BUCKETS = BOUNDARIES_MS.length + 1; // + the +Inf bucket
/** Stable-only slots before the canary gets traffic, so early windows reach back before it. */
const PRE_SLOTS = 12;
/** The stable history the latency boundary is chosen from. */
const LOOKBACK_MS = 3_600_000;

export interface SubsetWindow {
  requests: number;
  errors: number;
  /** Cumulative bucket counts: index i counts requests <= BOUNDARIES_MS[i]; the last is +Inf. */
  cumulativeBuckets: Float64Array;
}

export interface TrafficWindow {
  canary: SubsetWindow;
  stable: SubsetWindow;
}

class RunningTotals {
  readonly requests: Float64Array;
  readonly errors: Float64Array;
  readonly buckets: Float64Array;
  constructor(slots: number) {
    this.requests = new Float64Array(slots + 1);
    this.errors = new Float64Array(slots + 1);
    this.buckets = new Float64Array((slots + 1) * BUCKETS);
  }

  window(from: number, to: number): SubsetWindow {
    const cumulativeBuckets = new Float64Array(BUCKETS);
    let running = 0;
    for (let b = 0; b < BUCKETS; b++) {
      running += (this.buckets[to * BUCKETS + b] as number) - (this.buckets[from * BUCKETS + b] as number);
      cumulativeBuckets[b] = running;
    }
    return { requests: (this.requests[to] as number) - (this.requests[from] as number), errors: (this.errors[to] as number) - (this.errors[from] as number), cumulativeBuckets };
  }
}

export class SimulatedTraffic {
  private readonly canary: RunningTotals;
  private readonly stable: RunningTotals;
  private readonly stableLatency: LogNormal;
  private readonly canaryLatency: LogNormal;
  private readonly shares = new Float64Array(BUCKETS);
  /** Slots generated so far, counted from the first pre-release slot. */
  private generated = 0;

  constructor(private readonly scenario: ReleaseScenario, horizonMs: number) {
    const slots = PRE_SLOTS + Math.ceil(horizonMs / SLOT_MS) + 1;
    this.canary = new RunningTotals(slots);
    this.stable = new RunningTotals(slots);
    this.stableLatency = fitLogNormal(scenario.stableP50Ms, scenario.stableP99Ms);
    this.canaryLatency = fitLogNormal(scenario.stableP50Ms, scenario.stableP99Ms * scenario.kind.p99Factor);
    this.generateUntil(0, 0);
  }

  /** Generates the slots up to time t (ms since the canary first got traffic) with this canary weight in percent. */
  generateUntil(t: number, canaryWeight: number): void {
    const until = PRE_SLOTS + Math.ceil(t / SLOT_MS);
    for (; this.generated < until; this.generated++) this.generateSlot(this.generated, canaryWeight / 100);
  }

  /** The counts over (from, to], both in ms since the canary first got traffic and multiples of SLOT_MS. */
  window(from: number, to: number): TrafficWindow {
    const a = this.slotIndex(from);
    const b = this.slotIndex(to);
    if (b > this.generated) throw new RangeError(`window ends at ${to}ms, beyond the ${this.generated - PRE_SLOTS} slots generated`);
    return { canary: this.canary.window(a, b), stable: this.stable.window(a, b) };
  }

  /** Canary requests from the first slot with traffic up to t. */
  canaryRequestsUntil(t: number): number {
    return this.canary.window(PRE_SLOTS, this.slotIndex(t)).requests;
  }

  /** The stable subset's cumulative duration histogram over the hour before the release (no bursts, average noise). */
  stableLookback(): Float64Array {
    const rng = mulberry32(mix(this.scenario.seed, -1, 3));
    bucketShares(this.stableLatency, BOUNDARIES_MS, 1, this.shares);
    const mean = (this.scenario.requestsPerSecond * LOOKBACK_MS) / 1000;
    const out = new Float64Array(BUCKETS);
    let running = 0;
    for (let b = 0; b < BUCKETS; b++) {
      running += poisson(rng, mean * (this.shares[b] as number));
      out[b] = running;
    }
    return out;
  }

  private slotIndex(t: number): number {
    if (t % SLOT_MS !== 0) throw new RangeError(`${t}ms is not a multiple of the ${SLOT_MS}ms slot`);
    return PRE_SLOTS + t / SLOT_MS;
  }

  private generateSlot(slot: number, canaryShare: number): void {
    const s = this.scenario;
    const releaseSlot = slot - PRE_SLOTS;
    const noise = mulberry32(mix(s.seed, slot, 2));
    const burst = s.bursts.find((b) => releaseSlot >= b.fromSlot && releaseSlot < b.toSlot);
    const rate = s.requestsPerSecond * (SLOT_MS / 1000) * Math.exp(0.15 * standardNormal(noise) - 0.01125);
    const common = s.stableErrorRate * Math.exp(0.3 * standardNormal(noise) - 0.045);
    const stableError = Math.min(1, common * Math.exp(0.1 * standardNormal(noise) - 0.005) + (burst?.extraErrorRate ?? 0));
    const canaryError = Math.min(1, s.kind.errorRatio * common * Math.exp(0.1 * standardNormal(noise) - 0.005) + (burst?.extraErrorRate ?? 0));
    const latencyScale = Math.exp(0.05 * standardNormal(noise)) * (burst?.latencyFactor ?? 1);
    this.fill(this.stable, slot, rate * (1 - canaryShare), stableError, this.stableLatency, latencyScale, mulberry32(mix(s.seed, slot, 0)));
    this.fill(this.canary, slot, rate * canaryShare, canaryError, this.canaryLatency, latencyScale, mulberry32(mix(s.seed, slot, 1)));
  }

  private fill(t: RunningTotals, slot: number, meanRequests: number, errorRate: number, latency: LogNormal, scale: number, rng: Rng): void {
    const base = slot * BUCKETS;
    const next = base + BUCKETS;
    let requests = 0;
    if (meanRequests > 0) bucketShares(latency, BOUNDARIES_MS, scale, this.shares);
    for (let b = 0; b < BUCKETS; b++) {
      const n = meanRequests > 0 ? poisson(rng, meanRequests * (this.shares[b] as number)) : 0;
      requests += n;
      t.buckets[next + b] = (t.buckets[base + b] as number) + n;
    }
    t.requests[slot + 1] = (t.requests[slot] as number) + requests;
    t.errors[slot + 1] = (t.errors[slot] as number) + binomial(rng, requests, errorRate);
  }
}

/** A 32-bit seed for one (release, slot, stream). */
function mix(seed: number, slot: number, stream: number): number {
  let h = (seed ^ Math.imul(slot + 0x10000, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = (h ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
  return Math.imul(h ^ (h >>> 13), 0x27d4eb2f) >>> 0;
}
