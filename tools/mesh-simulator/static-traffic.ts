// The static mode's traffic for the configured hosts: instead of drawing each
// request, the counts grow by what the current plans say (rps x share of each
// workload, split into errors by its errorRate, spread over the buckets by
// its latency), integrated over time. Plans come from the same TrafficEngine
// as in the requests mode, so the live VirtualService weights, subsets,
// workloads and behaviour annotations apply exactly as there. Requests that
// reach no workload (503 UH/NC, 404 NR) are reported only by the source
// reporter in Istio, which this mode does not serve: they are not counted.
// The data plane chooses the reporter as in the requests mode: the
// destination's sidecar, or the waypoint in ambient mode; ambient mode
// without a waypoint has no L7 series (and this mode serves no TCP ones).
import { ISTIO_DURATION_BUCKETS_MS } from './istio-metrics.js';
import { meanLatencyMs, perBucketShares } from './latency-buckets.js';
import { counterLine, histogramLines, seriesLabels, wholeBuckets, type ExpositionSource, type StaticSeries } from './static-exposition.js';
import type { HostPlan } from './traffic.js';

/** What the static mode needs from the engine: each host's rate and current plan. */
export interface PlannedHost {
  namespace: string;
  service: string;
  rps: number;
  plan: HostPlan;
}

interface Counts {
  labels: string;
  count: number;
  sumMs: number;
  /** Requests in each bucket on its own (not cumulative), the last above the highest bound. */
  buckets: Float64Array;
}

export class StaticTraffic implements ExpositionSource {
  /** In first-seen order, so the exposition's order is stable. */
  private readonly series = new Map<string, Counts>();
  private readonly requestsByHost = new Map<string, number>();
  private last: number;

  constructor(
    private readonly plans: () => readonly PlannedHost[],
    startedAtMs: number,
  ) {
    this.last = startedAtMs;
  }

  /** Adds the traffic from the last call until `nowMs` at the current plans. */
  advanceTo(nowMs: number): void {
    const seconds = (nowMs - this.last) / 1000;
    if (!(seconds > 0)) return;
    this.last = nowMs;
    for (const host of this.plans()) {
      let total = 0;
      const dataplane = host.plan.dataplane;
      const reporter: StaticSeries['reporter'] = dataplane.mode === 'ambient' ? 'waypoint' : 'destination';
      const l7 = dataplane.mode === 'sidecar' || dataplane.waypoint !== undefined;
      for (const e of host.plan.entries) {
        if (!e.destination || !e.behaviour || e.failure) continue;
        const requests = host.rps * e.share * seconds;
        total += requests;
        if (!l7) continue;
        const errors = requests * e.behaviour.errorRate;
        const base = { reporter, namespace: e.service.namespace, service: e.service.name, version: e.destination.version, workload: e.destination.workload };
        if (requests - errors > 0) this.add({ ...base, code: 200 }, requests - errors, e.behaviour.latencyMs);
        if (errors > 0) this.add({ ...base, code: e.behaviour.errorCode }, errors, e.behaviour.latencyMs);
      }
      const key = `${host.namespace}/${host.service}`;
      this.requestsByHost.set(key, (this.requestsByHost.get(key) ?? 0) + total);
    }
  }

  /** Requests counted so far for a host (NAMESPACE/SERVICE), as a whole number. */
  requests(host: string): number {
    return Math.floor(this.requestsByHost.get(host) ?? 0);
  }

  *counterLines(): Iterable<string> {
    for (const s of this.series.values()) yield counterLine(s.labels, s.count);
  }

  *histogramLines(): Iterable<string> {
    for (const s of this.series.values()) {
      const { cumulative, count } = wholeBuckets(s.buckets);
      yield* histogramLines(s.labels, count, s.sumMs, cumulative);
    }
  }

  private add(series: StaticSeries, requests: number, latencyMs: { p50: number; p99: number }): void {
    const labels = seriesLabels(series);
    let c = this.series.get(labels);
    if (!c) {
      c = { labels, count: 0, sumMs: 0, buckets: new Float64Array(ISTIO_DURATION_BUCKETS_MS.length + 1) };
      this.series.set(labels, c);
    }
    c.count += requests;
    c.sumMs += requests * meanLatencyMs(latencyMs);
    const shares = bucketShares(latencyMs);
    for (let i = 0; i < shares.length; i++) c.buckets[i]! += requests * shares[i]!;
  }
}

// Behaviours are few (defaults and a handful of annotations): their shares are computed once.
const sharesCache = new Map<string, number[]>();
function bucketShares(latencyMs: { p50: number; p99: number }): number[] {
  const key = `${latencyMs.p50}/${latencyMs.p99}`;
  let shares = sharesCache.get(key);
  if (!shares) sharesCache.set(key, (shares = perBucketShares(latencyMs, ISTIO_DURATION_BUCKETS_MS)));
  return shares;
}
