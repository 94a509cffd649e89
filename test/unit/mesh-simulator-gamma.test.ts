// The traffic engine following a GAMMA HTTPRoute: the split by backendRefs,
// the labels Istio reports for it (the backend Service as destination
// service), failures of backends, and the choice between HTTPRoute and
// VirtualService.
import { describe, expect, test } from '@jest/globals';
import { IstioMetrics } from '../../tools/mesh-simulator/istio-metrics.js';
import { TrafficEngine, type ClusterView } from '../../tools/mesh-simulator/traffic.js';
import { deployment, destinationRule, gammaBookinfo, httpRoute, NS, sumBy, virtualService } from './fakes/mesh-cluster.js';

function engine(view: ClusterView, extra: { matchShare?: number } = {}) {
  const metrics = new IstioMetrics();
  const e = new TrafficEngine({ hosts: [{ namespace: NS, service: 'reviews', rps: 50 }], seed: 42, view, metrics, tickMs: 100, ...extra });
  return { e, metrics };
}

describe('traffic engine with an HTTPRoute on the Service (GAMMA)', () => {
  test('splits 90/10 by backendRef weights and follows the HTTPRoute, with its generation', async () => {
    const { e, metrics } = engine(gammaBookinfo());
    e.tick(1000); // 100 s at 50 rps
    const byService = await sumBy(metrics.requests, { reporter: 'destination' }, 'destination_service_name');
    expect(Object.keys(byService).sort()).toEqual(['reviews-v1', 'reviews-v2']);
    expect(byService['reviews-v1']! + byService['reviews-v2']!).toBe(5000);
    expect(Math.abs(byService['reviews-v2']! / 5000 - 0.1)).toBeLessThan(0.015);
    expect(await sumBy(metrics.requests, { reporter: 'source' }, 'destination_service_name')).toEqual(byService);
    const plan = e.snapshot().hosts[0]!.plan;
    expect(plan.route).toEqual({ kind: 'HTTPRoute', namespace: NS, name: 'reviews', generation: 1 });
    expect(plan.virtualService).toBeUndefined();
    expect(plan.dataplane).toEqual({ mode: 'sidecar' });
    expect(plan.entries.map((x) => [x.service.name, x.destination?.workload, x.share])).toEqual([
      ['reviews-v1', 'reviews-v1', 0.9],
      ['reviews-v2', 'reviews-v2', 0.1],
    ]);
  });

  test('reports the backend Service as destination service, the Deployment as workload and the pod version', async () => {
    const { e, metrics } = engine(gammaBookinfo());
    e.tick(100);
    const v2 = (await metrics.requests.get()).values.find((s) => s.labels.reporter === 'destination' && s.labels.destination_service_name === 'reviews-v2');
    expect(v2?.labels).toMatchObject({
      destination_service: `reviews-v2.${NS}.svc.cluster.local`,
      destination_service_name: 'reviews-v2',
      destination_service_namespace: NS,
      destination_workload: 'reviews-v2',
      destination_workload_namespace: NS,
      destination_version: 'v2',
      destination_app: 'reviews',
      destination_canonical_service: 'reviews',
      destination_canonical_revision: 'v2',
      destination_principal: `spiffe://cluster.local/ns/${NS}/sa/bookinfo-reviews`,
      source_workload: 'productpage-v1',
      response_code: '200',
      response_flags: '-',
    });
  });

  test('follows weight changes of the route', async () => {
    const view = gammaBookinfo();
    const { e, metrics } = engine(view);
    e.tick(10);
    view.set({ httpRoutes: [httpRoute([{ name: 'reviews-v1', weight: 0 }, { name: 'reviews-v2', weight: 100 }], { generation: 2 })] });
    const before = await sumBy(metrics.requests, { reporter: 'destination' }, 'destination_service_name');
    e.tick(100);
    const after = await sumBy(metrics.requests, { reporter: 'destination' }, 'destination_service_name');
    expect(after['reviews-v1']).toBe(before['reviews-v1']);
    expect(after['reviews-v2']! - (before['reviews-v2'] ?? 0)).toBe(500);
    expect(e.snapshot().hosts[0]!.plan.route?.generation).toBe(2);
  });

  test('applies the host\'s behaviour selectors to backends: "reviews.<version>" and the backend Service name', () => {
    const view = gammaBookinfo();
    view.set({
      configMaps: [{ metadata: { name: 'mesh-simulator', namespace: NS }, data: { 'behaviour.json': JSON.stringify({ 'reviews-v2': { errorRate: 0.2, errorCode: 503 }, 'reviews.v2': { errorRate: 0.5 } }) } }],
    });
    const { e } = engine(view);
    const entries = e.snapshot().hosts[0]!.plan.entries;
    expect(entries.map((x) => [x.service.name, x.behaviour?.errorRate, x.behaviour?.errorCode])).toEqual([
      ['reviews-v1', 0, 500],
      ['reviews-v2', 0.5, 503],
    ]);
  });

  test('a backend whose selector matches no available Deployment fails 503 UH; a missing backend Service 500; both reported by the source only', async () => {
    const view = gammaBookinfo();
    view.set({
      httpRoutes: [httpRoute([{ name: 'reviews-v2', weight: 50 }, { name: 'reviews-v9', weight: 50 }])],
      deployments: [deployment('v1'), deployment('v2', { available: 0 })],
    });
    const { e, metrics } = engine(view);
    e.tick(20);
    expect(await sumBy(metrics.requests, { reporter: 'destination' }, 'response_code')).toEqual({});
    const codes = await sumBy(metrics.requests, { reporter: 'source' }, 'response_code');
    expect(codes['500']! + codes['503']!).toBe(100);
    expect(await sumBy(metrics.requests, { reporter: 'source', response_code: '503' }, 'response_flags')).toEqual({ UH: codes['503'] });
    expect(await sumBy(metrics.requests, { reporter: 'source', response_code: '500' }, 'destination_service_name')).toEqual({ 'reviews-v9': codes['500'] });
    const problems = e.snapshot().hosts[0]!.plan.problems.join('\n');
    expect(problems).toMatch(/reviews-v9 not found \(BackendNotFound\)/);
    expect(problems).toMatch(/no available Deployment serves reviews-v2/);
  });

  test('with a VirtualService and an HTTPRoute for the host, follows the HTTPRoute and says mixing them is unsupported', async () => {
    const view = gammaBookinfo();
    view.set({ virtualServices: [virtualService([{ subset: 'v3', weight: 100 }])], destinationRules: [destinationRule()] });
    const { e, metrics } = engine(view);
    e.tick(100);
    expect(Object.keys(await sumBy(metrics.requests, { reporter: 'destination' }, 'destination_service_name')).sort()).toEqual(['reviews-v1', 'reviews-v2']);
    const plan = e.snapshot().hosts[0]!.plan;
    expect(plan.route?.kind).toBe('HTTPRoute');
    expect(plan.problems.join('\n')).toMatch(/both HTTPRoute reviews and VirtualService reviews route prod\/reviews: following the HTTPRoute/);

    view.set({ httpRoutes: [] });
    e.tick(1);
    expect(e.snapshot().hosts[0]!.plan.route).toEqual({ kind: 'VirtualService', namespace: NS, name: 'reviews' });
  });
});
