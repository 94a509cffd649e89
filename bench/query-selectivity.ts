// What one round's grouped queries cost Prometheus in a big mesh: a real
// Prometheus scrapes the Istio series of MESH services (two versions each, a
// 200 and a 503 code, Istio's duration buckets), of which 1 or ACTIVE have a
// running release. For each query the operator sends (request counts, p99),
// reading every service's series (as before) and only the running releases'
// Services (WatchedServices), it prints Prometheus' own figures (stats=all:
// samples touched, evaluation time) and the time the answer took.
//   npm run bench:queries [-- MESH ACTIVE]      (defaults 2000 and 1000)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { latencyQuery, requestCountsQuery } from '../src/analysis/prometheus/queries.js';
import { startPrometheus } from '../test/harness/prometheus.js';

const MESH = Number(process.argv[2] ?? 2000);
const ACTIVE = Number(process.argv[3] ?? 1000);
const SCRAPE_S = 5;
const BUCKETS = ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '+Inf'];
const name = (i: number) => `svc-${i}`;

/** The exposition of the whole mesh; counters grow with every scrape so increase() has work to do. */
let scrapes = 0;
function exposition(): string {
  scrapes++;
  const lines: string[] = ['# TYPE istio_requests_total counter', '# TYPE istio_request_duration_milliseconds histogram'];
  for (let i = 0; i < MESH; i++) {
    for (const version of ['v1', 'v2']) {
      const labels = `reporter="destination",destination_service_namespace="mesh",destination_service_name="${name(i)}",destination_version="${version}"`;
      lines.push(`istio_requests_total{${labels},response_code="200"} ${scrapes * 100}`);
      lines.push(`istio_requests_total{${labels},response_code="503"} ${scrapes}`);
      BUCKETS.forEach((le, b) => lines.push(`istio_request_duration_milliseconds_bucket{${labels},le="${le}"} ${Math.round(scrapes * 101 * (b + 1) / BUCKETS.length)}`));
    }
  }
  return `${lines.join('\n')}\n`;
}

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
  res.end(exposition());
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
const prometheus = await startPrometheus({ targets: [target], scrapeIntervalSeconds: SCRAPE_S });

interface Cost { ms: number; samples: number; evalMs: number; series: number }
async function cost(promql: string): Promise<Cost> {
  const runs: Cost[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const res = await fetch(`${prometheus.url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: promql, stats: 'all' }) });
    const body = (await res.json()) as { status: string; error?: string; data: { result: unknown[]; stats?: { timings?: { evalTotalTime?: number }; samples?: { totalQueryableSamples?: number } } } };
    if (body.status !== 'success') throw new Error(`${promql.slice(0, 80)}...: ${body.error}`);
    runs.push({ ms: performance.now() - started, samples: body.data.stats?.samples?.totalQueryableSamples ?? Number.NaN, evalMs: (body.data.stats?.timings?.evalTotalTime ?? Number.NaN) * 1000, series: body.data.result.length });
  }
  runs.sort((a, b) => a.ms - b.ms);
  return runs[2] as Cost;
}

try {
  process.stdout.write(`Mesh of ${MESH} services (${MESH * 2 * (2 + BUCKETS.length)} Istio series), scraped every ${SCRAPE_S}s; waiting for 4 scrapes...\n`);
  const deadline = Date.now() + 120_000;
  while (scrapes < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
  if (scrapes < 4) throw new Error(`Prometheus scraped ${scrapes} times in 2 minutes; see its log`);
  const rows: string[][] = [];
  for (const active of [1, ACTIVE]) {
    const services = Array.from({ length: active }, (_, i) => name(i));
    for (const [query, every, only] of [
      ['request counts', requestCountsQuery('1m'), requestCountsQuery('1m', 'destination', services)],
      ['p99 latency', latencyQuery(99, '1m'), latencyQuery(99, '1m', 'destination', services)],
    ] as const) {
      const a = await cost(every);
      const b = await cost(only);
      rows.push([String(active), query, 'every service', a.samples.toLocaleString('en'), a.evalMs.toFixed(1), a.ms.toFixed(1), a.series.toLocaleString('en')]);
      rows.push([String(active), query, 'running releases only', b.samples.toLocaleString('en'), b.evalMs.toFixed(1), b.ms.toFixed(1), b.series.toLocaleString('en')]);
    }
  }
  const head = ['running releases', 'query', 'series read', 'samples touched', 'eval ms', 'answer ms (median of 5)', 'series returned'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  process.stdout.write(`${[line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`);
  process.stdout.write('Goal: queries per round independent of N (one of each per round), each touching only the series of Services with a running release.\n');
} finally {
  await prometheus.stop();
  server.close();
}
