// Unrelated services for the static mode: series of services no release
// touches, so that queries over the whole mesh (as the operator's grouped
// queries are) select as many series as in a real, large mesh. Nothing in the
// cluster backs them; their counts are a closed form of time (a steady rate
// per version, no errors, the default latency), so serving thousands costs
// no per-request or per-tick work.
//
// Naming: namespaces mesh-000, mesh-001, ... holding `perNamespace` services
// bg-0000, bg-0001, ... each; versions v1, v2, ...; workloads <svc>-<version>.
// Not svc-NNNN: bench:scale names its releases' Services so, and a query's
// name filter would then read these series too, counting them in the
// samples a round touches.
import { ISTIO_DURATION_BUCKETS_MS } from './istio-metrics.js';
import { meanLatencyMs, perBucketShares } from './latency-buckets.js';
import { counterLine, histogramLines, seriesLabels, wholeBuckets, type ExpositionSource } from './static-exposition.js';

export interface BackgroundOptions {
  /** How many services. */
  services: number;
  /** Versions per service, each with its own workload and series; default 2. */
  versions?: number;
  /** Requests per second per service, split evenly over its versions; default 10. */
  rps?: number;
  /** Services per namespace; default 100. */
  perNamespace?: number;
  latencyMs?: { p50: number; p99: number };
}

export const BACKGROUND_DEFAULTS = { versions: 2, rps: 10, perNamespace: 100, latencyMs: { p50: 20, p99: 200 } };

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export class BackgroundServices implements ExpositionSource {
  private readonly labels: string[] = [];
  private readonly ratePerSeries: number;
  private readonly shares: number[];
  private readonly meanMs: number;

  constructor(opts: BackgroundOptions, private readonly startedAtMs: number) {
    const versions = opts.versions ?? BACKGROUND_DEFAULTS.versions;
    const perNamespace = opts.perNamespace ?? BACKGROUND_DEFAULTS.perNamespace;
    const latency = opts.latencyMs ?? BACKGROUND_DEFAULTS.latencyMs;
    if (!Number.isInteger(opts.services) || opts.services < 0) throw new Error(`background services must be a whole number >= 0, got ${opts.services}`);
    if (!Number.isInteger(versions) || versions < 1) throw new Error(`background versions must be a whole number >= 1, got ${versions}`);
    if (!Number.isInteger(perNamespace) || perNamespace < 1) throw new Error(`background services per namespace must be a whole number >= 1, got ${perNamespace}`);
    this.ratePerSeries = (opts.rps ?? BACKGROUND_DEFAULTS.rps) / versions;
    this.shares = perBucketShares(latency, ISTIO_DURATION_BUCKETS_MS);
    this.meanMs = meanLatencyMs(latency);
    const nsWidth = Math.max(3, String(Math.ceil(opts.services / perNamespace)).length);
    const svcWidth = Math.max(4, String(opts.services).length);
    for (let i = 0; i < opts.services; i++) {
      const namespace = `mesh-${pad(Math.floor(i / perNamespace), nsWidth)}`;
      const service = `bg-${pad(i, svcWidth)}`;
      for (let v = 1; v <= versions; v++) {
        this.labels.push(seriesLabels({ namespace, service, version: `v${v}`, workload: `${service}-v${v}`, code: 200 }));
      }
    }
  }

  /** Series per family (counters; histograms each have buckets + 3 more lines). */
  get seriesCount(): number {
    return this.labels.length;
  }

  *counterLines(nowMs: number): Iterable<string> {
    const count = this.countAt(nowMs);
    for (const labels of this.labels) yield counterLine(labels, count);
  }

  *histogramLines(nowMs: number): Iterable<string> {
    const count = this.countAt(nowMs);
    const buckets = wholeBuckets(this.shares.map((s) => count * s));
    for (const labels of this.labels) yield* histogramLines(labels, buckets.count, count * this.meanMs, buckets.cumulative);
  }

  private countAt(nowMs: number): number {
    return (this.ratePerSeries * Math.max(0, nowMs - this.startedAtMs)) / 1000;
  }
}
