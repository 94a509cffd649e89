import { describe, expect, test } from '@jest/globals';
import { ANNOTATIONS } from '../../tools/mesh-simulator/behaviour.js';
import { ISTIO_DURATION_BUCKETS_MS, ISTIO_LABEL_NAMES, IstioMetrics } from '../../tools/mesh-simulator/istio-metrics.js';
import { TrafficEngine, type ClusterView } from '../../tools/mesh-simulator/traffic.js';
import { FakeView, NS } from './fakes/mesh-cluster.js';
import type { NamespaceObjects } from '../../tools/mesh-simulator/workloads.js';


function deployment(version: string, extra: { annotations?: Record<string, string>; available?: number } = {}) {
  return {
    metadata: { name: `reviews-${version}`, namespace: NS, labels: { app: 'reviews', version }, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'reviews', version } }, spec: { serviceAccountName: 'bookinfo-reviews' } } },
    status: { availableReplicas: extra.available ?? 1 },
  };
}

function virtualService(primary: { subset: string; weight?: number }[], jason = true) {
  return {
    metadata: { name: 'reviews', namespace: NS, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {
      hosts: ['reviews'],
      http: [
        ...(jason ? [{ name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] : []),
        { name: 'primary', route: primary.map((p) => ({ destination: { host: 'reviews', subset: p.subset }, ...(p.weight !== undefined ? { weight: p.weight } : {}) })) },
      ],
    },
  };
}

function bookinfo(): FakeView {
  return new FakeView({
    virtualServices: [virtualService([{ subset: 'v1', weight: 80 }, { subset: 'v2', weight: 20 }])],
    destinationRules: [{ metadata: { name: 'reviews', namespace: NS }, spec: { host: 'reviews', subsets: ['v1', 'v2', 'v3'].map((v) => ({ name: v, labels: { version: v } })) } }],
    services: [{ metadata: { name: 'reviews', namespace: NS }, spec: { selector: { app: 'reviews' } } }],
    deployments: [deployment('v1'), deployment('v2'), deployment('v3')],
    configMaps: [{ metadata: { name: 'mesh-simulator', namespace: NS }, data: { 'behaviour.json': JSON.stringify({ 'reviews.v2': { errorRate: 0.5 } }) } }],
  });
}

function engine(view: ClusterView, seed = 42, extra: { matchShare?: number } = {}) {
  const metrics = new IstioMetrics();
  const e = new TrafficEngine({ hosts: [{ namespace: NS, service: 'reviews', rps: 50 }], seed, view, metrics, tickMs: 100, ...extra });
  return { e, metrics };
}

/** Sums istio_requests_total over the series matching `where`, grouped by `by`. */
async function requests(metrics: IstioMetrics, where: Record<string, string>, by: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of (await metrics.requests.get()).values) {
    const labels = s.labels as Record<string, string>;
    if (Object.entries(where).some(([k, v]) => labels[k] !== v)) continue;
    const key = labels[by] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

describe('istio metrics', () => {
  test('carry Istio names, the standard label set and the default buckets', async () => {
    const view = bookinfo();
    const { e, metrics } = engine(view);
    e.tick(10);
    const text = await metrics.text();
    expect(text).toContain('# TYPE istio_requests_total counter');
    expect(text).toContain('# TYPE istio_request_duration_milliseconds histogram');
    for (const le of [...ISTIO_DURATION_BUCKETS_MS, '+Inf']) expect(text).toContain(`istio_request_duration_milliseconds_bucket{le="${le}",`);
    expect(ISTIO_DURATION_BUCKETS_MS).toEqual([1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000]);
    const series = (await metrics.requests.get()).values;
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) expect(Object.keys(s.labels).sort()).toEqual([...ISTIO_LABEL_NAMES].sort());
    for (const required of [
      'reporter', 'source_workload', 'source_workload_namespace', 'destination_workload', 'destination_workload_namespace',
      'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_version',
      'destination_canonical_service', 'destination_canonical_revision', 'request_protocol', 'response_code', 'response_flags',
      'connection_security_policy',
    ]) {
      expect(ISTIO_LABEL_NAMES).toContain(required);
    }
    const v2 = series.find((s) => s.labels.reporter === 'destination' && s.labels.destination_version === 'v2')!;
    expect(v2.labels).toMatchObject({
      source_workload: 'productpage-v1',
      source_workload_namespace: NS,
      destination_workload: 'reviews-v2',
      destination_workload_namespace: NS,
      destination_service: 'reviews.prod.svc.cluster.local',
      destination_service_name: 'reviews',
      destination_service_namespace: NS,
      destination_canonical_service: 'reviews',
      destination_canonical_revision: 'v2',
      destination_principal: 'spiffe://cluster.local/ns/prod/sa/bookinfo-reviews',
      request_protocol: 'http',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    });
  });
});

describe('traffic engine', () => {
  test('splits 80/20 by the VirtualService, fails v2 as configured, and reports every request twice', async () => {
    const { e, metrics } = engine(bookinfo());
    e.tick(1000); // 100 s at 50 rps
    const dest = await requests(metrics, { reporter: 'destination' }, 'destination_version');
    const src = await requests(metrics, { reporter: 'source' }, 'destination_version');
    expect(dest.v1! + dest.v2!).toBe(5000);
    expect(src).toEqual(dest);
    expect(Math.abs(dest.v2! / 5000 - 0.2)).toBeLessThan(0.02);
    const v2Codes = await requests(metrics, { reporter: 'destination', destination_version: 'v2' }, 'response_code');
    expect(Math.abs(v2Codes['500']! / dest.v2! - 0.5)).toBeLessThan(0.05);
    expect(await requests(metrics, { reporter: 'destination', destination_version: 'v1' }, 'response_code')).toEqual({ 200: dest.v1 });
  });

  test('sends matchShare of the requests down the match route', async () => {
    const { e, metrics } = engine(bookinfo(), 42, { matchShare: 0.1 });
    e.tick(1000);
    const dest = await requests(metrics, { reporter: 'destination' }, 'destination_version');
    // jason 10% to v2, then 90% x 20% = 18% to v2: 28% in all.
    expect(Math.abs(dest.v2! / 5000 - 0.28)).toBeLessThan(0.02);
  });

  test('is reproducible with a seed, and another seed draws differently', async () => {
    const run = async (seed: number) => {
      const { e, metrics } = engine(bookinfo(), seed);
      e.tick(200);
      return metrics.text();
    };
    expect(await run(7)).toBe(await run(7));
    expect(await run(7)).not.toBe(await run(8));
  });

  test('follows changes of the VirtualService and of annotations', async () => {
    const view = bookinfo();
    const { e, metrics } = engine(view);
    e.tick(10);
    view.set({
      virtualServices: [virtualService([{ subset: 'v1', weight: 0 }, { subset: 'v2', weight: 100 }])],
      deployments: [deployment('v1'), deployment('v2', { annotations: { [ANNOTATIONS.errorRate]: '0' } }), deployment('v3')],
    });
    const before = await requests(metrics, { reporter: 'destination' }, 'destination_version');
    e.tick(100);
    const after = await requests(metrics, { reporter: 'destination' }, 'destination_version');
    expect(after.v1).toBe(before.v1);
    expect(after.v2! - (before.v2 ?? 0)).toBe(500);
    const plan = e.snapshot().hosts[0]!.plan;
    expect(plan.entries.map((x) => [x.subset, x.share, x.behaviour?.errorRate])).toEqual([['v2', 1, 0]]);
  });

  test('fails like Envoy where routing cannot reach a workload: NC, UH and NR, reported by the source only', async () => {
    const view = bookinfo();
    view.set({
      virtualServices: [virtualService([{ subset: 'v4', weight: 50 }, { subset: 'v3', weight: 50 }])],
      deployments: [deployment('v1'), deployment('v2'), deployment('v3', { available: 0 })],
    });
    const { e, metrics } = engine(view);
    e.tick(20);
    expect(await requests(metrics, { reporter: 'destination' }, 'response_code')).toEqual({});
    const flags = await requests(metrics, { reporter: 'source' }, 'response_flags');
    expect(Object.keys(flags).sort()).toEqual(['NC', 'UH']);
    expect(await requests(metrics, { reporter: 'source' }, 'response_code')).toEqual({ 503: 100 });
    expect(await requests(metrics, { reporter: 'source' }, 'destination_workload')).toEqual({ unknown: 100 });
    expect(e.snapshot().hosts[0]!.plan.problems.join('\n')).toMatch(/subset v4/);

    view.set({ virtualServices: [{ ...virtualService([]), spec: { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/x' } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] } }] });
    e.tick(10);
    expect((await requests(metrics, { reporter: 'source' }, 'response_flags')).NR).toBe(50);
  });

  test('without a VirtualService, spreads traffic over the Service\'s workloads by available replicas', async () => {
    const view = bookinfo();
    view.set({ virtualServices: [] });
    const { e, metrics } = engine(view);
    e.tick(600);
    const dest = await requests(metrics, { reporter: 'destination' }, 'destination_version');
    expect(Object.keys(dest).sort()).toEqual(['v1', 'v2', 'v3']);
    for (const v of ['v1', 'v2', 'v3']) expect(Math.abs(dest[v]! / 3000 - 1 / 3)).toBeLessThan(0.03);
  });
});
