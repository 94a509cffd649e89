// Ambient mode in the simulator: which labels make a host ambient and bind a
// waypoint, and what gets reported: one reporter="waypoint" series per
// request with a waypoint (Istio's labels, istio/istio#51313), only ztunnel's
// L4 connection counts without one.
import { describe, expect, test } from '@jest/globals';
import { dataplaneOf } from '../../tools/mesh-simulator/dataplane.js';
import { ISTIO_LABEL_NAMES, ISTIO_TCP_LABEL_NAMES, IstioMetrics } from '../../tools/mesh-simulator/istio-metrics.js';
import { TrafficEngine, type ClusterView } from '../../tools/mesh-simulator/traffic.js';
import { destinationRule, FakeView, gammaBookinfo, NS, sumBy, virtualService, deployment, gammaServices } from './fakes/mesh-cluster.js';

const AMBIENT = { 'istio.io/dataplane-mode': 'ambient' };
const ns = (labels: Record<string, string>) => ({ metadata: { name: NS, labels } });
const svc = (labels: Record<string, string>) => ({ metadata: { name: 'reviews', labels } });

function engine(view: ClusterView) {
  const metrics = new IstioMetrics();
  const e = new TrafficEngine({ hosts: [{ namespace: NS, service: 'reviews', rps: 50 }], seed: 42, view, metrics, tickMs: 100 });
  return { e, metrics };
}

describe('dataplaneOf', () => {
  test('is sidecar without the ambient label, ambient with it on the namespace or the Service', () => {
    expect(dataplaneOf(NS, undefined, undefined)).toEqual({ mode: 'sidecar' });
    expect(dataplaneOf(NS, ns({ 'istio-injection': 'enabled' }), svc({}))).toEqual({ mode: 'sidecar' });
    expect(dataplaneOf(NS, ns(AMBIENT), svc({}))).toEqual({ mode: 'ambient' });
    expect(dataplaneOf(NS, ns({}), svc(AMBIENT))).toEqual({ mode: 'ambient' });
    // A Service's own dataplane-mode wins over its namespace's.
    expect(dataplaneOf(NS, ns(AMBIENT), svc({ 'istio.io/dataplane-mode': 'none' }))).toEqual({ mode: 'sidecar' });
  });

  test('binds the waypoint named on the Service, else on the namespace; "none" on the Service opts out', () => {
    const nsWaypoint = ns({ ...AMBIENT, 'istio.io/use-waypoint': 'waypoint' });
    expect(dataplaneOf(NS, nsWaypoint, svc({}))).toEqual({ mode: 'ambient', waypoint: { name: 'waypoint', namespace: NS } });
    expect(dataplaneOf(NS, nsWaypoint, svc({ 'istio.io/use-waypoint': 'reviews-waypoint' }))).toEqual({ mode: 'ambient', waypoint: { name: 'reviews-waypoint', namespace: NS } });
    expect(dataplaneOf(NS, nsWaypoint, svc({ 'istio.io/use-waypoint': 'none' }))).toEqual({ mode: 'ambient' });
    expect(dataplaneOf(NS, ns(AMBIENT), svc({ 'istio.io/use-waypoint': 'shared', 'istio.io/use-waypoint-namespace': 'mesh' }))).toEqual({
      mode: 'ambient',
      waypoint: { name: 'shared', namespace: 'mesh' },
    });
  });
});

describe('traffic engine in ambient mode', () => {
  test('with a waypoint, reports every request once as reporter="waypoint", with Istio\'s labels, and no source or destination series', async () => {
    const { e, metrics } = engine(gammaBookinfo({ namespaceLabels: { ...AMBIENT, 'istio.io/use-waypoint': 'waypoint' } }));
    e.tick(1000);
    const byReporter = await sumBy(metrics.requests, {}, 'reporter');
    expect(byReporter).toEqual({ waypoint: 5000 });
    const split = await sumBy(metrics.requests, { reporter: 'waypoint' }, 'destination_service_name');
    expect(Math.abs(split['reviews-v2']! / 5000 - 0.1)).toBeLessThan(0.015);
    const series = (await metrics.requests.get()).values;
    for (const s of series) expect(Object.keys(s.labels).sort()).toEqual([...ISTIO_LABEL_NAMES].sort());
    const v2 = series.find((s) => s.labels.destination_service_name === 'reviews-v2')!;
    expect(v2.labels).toEqual({
      reporter: 'waypoint',
      source_workload: 'productpage-v1',
      source_workload_namespace: NS,
      source_principal: `spiffe://cluster.local/ns/${NS}/sa/bookinfo-productpage`,
      source_app: 'productpage',
      source_version: 'v1',
      source_canonical_service: 'productpage',
      source_canonical_revision: 'v1',
      source_cluster: 'Kubernetes',
      destination_workload: 'reviews-v2',
      destination_workload_namespace: NS,
      destination_principal: `spiffe://cluster.local/ns/${NS}/sa/bookinfo-reviews`,
      destination_app: 'reviews',
      destination_version: 'v2',
      destination_service: `reviews-v2.${NS}.svc.cluster.local`,
      destination_service_name: 'reviews-v2',
      destination_service_namespace: NS,
      destination_canonical_service: 'reviews',
      destination_canonical_revision: 'v2',
      destination_cluster: 'Kubernetes',
      request_protocol: 'http',
      response_code: '200',
      grpc_response_status: '',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    });
    expect(e.snapshot().hosts[0]!.plan.dataplane).toEqual({ mode: 'ambient', waypoint: { name: 'waypoint', namespace: NS } });
    expect(await sumBy(metrics.tcpConnectionsOpened, {}, 'reporter')).toEqual({});
  });

  test('a waypoint applies a VirtualService too, and reports failures itself', async () => {
    const view = new FakeView({
      virtualServices: [virtualService([{ subset: 'v1', weight: 50 }, { subset: 'v2', weight: 50 }])],
      destinationRules: [destinationRule()],
      services: gammaServices([], { 'istio.io/use-waypoint': 'reviews-waypoint' }),
      deployments: [deployment('v1'), deployment('v2', { available: 0 })],
      configMaps: [],
      namespace: ns(AMBIENT),
    });
    const { e, metrics } = engine(view);
    e.tick(200);
    expect(Object.keys(await sumBy(metrics.requests, {}, 'reporter'))).toEqual(['waypoint']);
    const flags = await sumBy(metrics.requests, { reporter: 'waypoint' }, 'response_flags');
    expect(flags['-']! + flags.UH!).toBe(1000);
    expect(Math.abs(flags.UH! / 1000 - 0.5)).toBeLessThan(0.06);
  });

  test('without a waypoint, emits no L7 metric: only connections counted by the destination ztunnel, spread over the Service\'s pods, routes not applied', async () => {
    const { e, metrics } = engine(gammaBookinfo({ namespaceLabels: AMBIENT }));
    e.tick(600);
    expect((await metrics.requests.get()).values).toEqual([]);
    expect((await metrics.duration.get()).values).toEqual([]);
    const opened = (await metrics.tcpConnectionsOpened.get()).values;
    for (const s of opened) expect(Object.keys(s.labels).sort()).toEqual([...ISTIO_TCP_LABEL_NAMES].sort());
    expect(await sumBy(metrics.tcpConnectionsOpened, {}, 'reporter')).toEqual({ destination: 3000 });
    expect(await sumBy(metrics.tcpConnectionsOpened, {}, 'request_protocol')).toEqual({ tcp: 3000 });
    expect(await sumBy(metrics.tcpConnectionsOpened, {}, 'destination_service_name')).toEqual({ reviews: 3000 });
    // The HTTPRoute's 90/10 is not applied: ztunnel balances over all three versions.
    const byVersion = await sumBy(metrics.tcpConnectionsOpened, {}, 'destination_version');
    for (const v of ['v1', 'v2', 'v3']) expect(Math.abs(byVersion[v]! / 3000 - 1 / 3)).toBeLessThan(0.04);
    const plan = e.snapshot().hosts[0]!.plan;
    expect(plan.route).toBeUndefined();
    expect(plan.problems.join('\n')).toMatch(/ambient mode without a waypoint: HTTPRoute reviews not applied/);
  });

  test('a sidecar namespace keeps source and destination reporters', async () => {
    const { e, metrics } = engine(gammaBookinfo({ namespaceLabels: { 'istio-injection': 'enabled' } }));
    e.tick(100);
    expect(await sumBy(metrics.requests, {}, 'reporter')).toEqual({ destination: 500, source: 500 });
  });
});
