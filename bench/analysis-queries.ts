// How many Prometheus queries one analysis round sends for 1, 10 and 100
// releases, through the operator's real path (WatchedServices -> AnalysisRunner
// -> CachedQuerier -> PrometheusClient) against a real Prometheus. Prints the
// figures.
//   npm run build && node dist/bench/analysis-queries.js
import { AnalysisRunner, type AnalysisTarget } from '../src/analysis/analysis-runner.js';
import { CachedQuerier } from '../src/analysis/prometheus/cached-querier.js';
import { PrometheusClient, type MetricsQuerier } from '../src/analysis/prometheus/client.js';
import type { AnalysisSpec } from '../src/api/analysis-spec.js';
import { WatchedServices } from '../src/analysis/watched-services.js';
import { resolveAnalysis } from '../src/core/plan.js';
import { startPrometheus } from '../test/harness/prometheus.js';

const spec: AnalysisSpec = {
  interval: '30s', window: '1m', minRequests: 50,
  gates: [
    { name: 'errors', errorRate: { max: '1%' } },
    { name: 'p99', latency: { percentile: 99, maxMs: 500 } },
    { name: 'vs-stable', errorRate: { maxIncreaseOverStable: '0.5%' } },
  ],
};
const planFor = (address: string) =>
  resolveAnalysis(spec, { prometheusAddress: address })!;

class Counting implements MetricsQuerier {
  sent = 0;
  constructor(private readonly inner: MetricsQuerier) {}
  query(address: string, promql: string, timeoutMs: number, at?: Date) {
    this.sent++;
    return this.inner.query(address, promql, timeoutMs, at);
  }
}

// As the reconciler builds them: the grouped queries read the Services of every running release.
const target = (i: number, watched: readonly string[]): AnalysisTarget => ({
  namespace: `team-${i}`, stableSubset: 'v1', canarySubset: 'v2',
  stable: { service: `svc-${i}`, labels: { version: 'v1' }, identifiedBy: 'version' },
  canary: { service: `svc-${i}`, labels: { version: 'v2' }, identifiedBy: 'version' },
  watched,
});

async function round(prometheusUrl: string, releases: number): Promise<number> {
  const counting = new Counting(new PrometheusClient());
  // As in the operator: one cache, results keyed by the round's evaluation time.
  const cached = new CachedQuerier(counting, { ttlMs: 60_000 });
  const runner = new AnalysisRunner(cached);
  const at = new Date(Math.floor(Date.now() / 30_000) * 30_000);
  const running = new WatchedServices();
  for (let i = 0; i < releases; i++) running.set(`team-${i}/release`, [`svc-${i}`]);
  await Promise.all(Array.from({ length: releases }, (_, i) => runner.run(planFor(prometheusUrl), target(i, running.list()), at)));
  return counting.sent;
}

const prometheus = await startPrometheus({ targets: [] });
try {
  for (const n of [1, 10, 100]) {
    const sent = await round(prometheus.url, n);
    process.stdout.write(`${n} release(s), gates errorRate + p99 latency + relative errorRate: ${sent} Prometheus queries per round\n`);
  }
} finally {
  await prometheus.stop();
}
