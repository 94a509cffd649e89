// Releases on a Gateway API HTTPRoute (GAMMA: its parentRef is the Service):
// the operator, the real kube-apiserver with the real Gateway API CRDs, the
// mesh simulator following the HTTPRoute's weights and writing its status,
// and a real Prometheus judging the versions by their backend Services.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster, ISTIO, bookinfoVirtualServiceSpec, condition, waitFor, waitForRelease, type HttpRouteObject } from './support/cluster.js';
import { behave, startMeshAndOperator } from './support/mesh.js';

const c = new Cluster();
const CASES = ['healthy', 'failing', 'conflict', 'ambient', 'nowaypoint'] as const;
/** Namespace labels: Istio ambient mode, with a waypoint bound to the namespace, or without one. */
const LABELS: Partial<Record<(typeof CASES)[number], Record<string, string>>> = {
  ambient: { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' },
  nowaypoint: { 'istio.io/dataplane-mode': 'ambient' },
};
type Case = (typeof CASES)[number];
/** The status is written before the route (intent first): the route follows within moments. */
const routeAt = (n: string, weights: Record<string, number>) => waitFor(`the HTTPRoute at ${JSON.stringify(weights)}`, async () =>
  JSON.stringify(await c.backendWeights(n)) === JSON.stringify(weights), 10_000, 100);
const ns = {} as Record<Case, string>;
let stack: Awaited<ReturnType<typeof startMeshAndOperator>> | undefined;

/** A rule for a test user (never managed), and the default rule with extra fields the operator must leave alone. */
const RULES = [
  {
    matches: [{ headers: [{ name: 'end-user', value: 'jason' }] }],
    backendRefs: [{ name: 'reviews-v2', port: 9080 }],
  },
  {
    matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-route', value: 'default' }] } }],
    timeouts: { request: '10s' },
    backendRefs: [{ name: 'reviews-v1', port: 9080 }],
  },
];

const release = (gates: unknown[] = [{ name: 'errors', errorRate: { max: '5%' } }]) => ({
  httpRoute: { name: 'reviews' },
  stable: { service: 'reviews-v1' },
  canary: { service: 'reviews-v2' },
  steps: [{ weight: 10, duration: '3s' }, { weight: 50, duration: '3s' }, { weight: 100 }],
  analysis: { interval: '1s', window: '5s', minRequests: 5, failureLimit: 2, gates },
});

/** The route with the managed rule's backendRefs left out, and server-set fields blanked: all the operator may not touch. */
function untouchable(route: HttpRouteObject): unknown {
  const copy = structuredClone(route) as HttpRouteObject & { metadata: Record<string, unknown> };
  for (const k of ['resourceVersion', 'generation', 'managedFields']) delete copy.metadata[k];
  delete (copy.spec.rules[1] as { backendRefs?: unknown }).backendRefs;
  delete copy.status;
  return copy;
}

beforeAll(async () => {
  for (const k of CASES) {
    ns[k] = await c.namespace(`gw-${k}`);
    await c.gammaBookinfo(ns[k], { rules: RULES, namespaceLabels: LABELS[k] });
  }
  stack = await startMeshAndOperator(CASES.map((k) => ({ namespace: ns[k] })));
}, 90_000);

afterAll(async () => {
  expect(await stack?.stop()).toBe(0);
});

describe('a release on an HTTPRoute', () => {
  it('walks a healthy canary to Succeeded, changing nothing in the HTTPRoute but the default rule\'s two weights', async () => {
    const n = ns.healthy;
    const before = await c.httpRoute(n);
    await c.createRelease(n, release());
    const step1 = await waitForRelease(c, n, 'step 1', (r) => r.status?.currentStep === 1, 30_000);
    expect(step1.status?.target).toEqual({ provider: 'gateway-api', kind: 'HTTPRoute', name: 'reviews', scope: {}, uses: {} });
    await routeAt(n, { 'reviews-v1': 90, 'reviews-v2': 10 });
    const done = await waitForRelease(c, n, 'Succeeded', (r) => r.status?.phase === 'Succeeded', 90_000);
    expect((done.status?.analysis as { verdict?: string } | undefined)?.verdict).toBe('Pass');
    await routeAt(n, { 'reviews-v1': 0, 'reviews-v2': 100 });
    const after = await c.httpRoute(n);
    // The canary backendRef was added as a copy of the stable one (the API server's defaults included); the test user's rule and every other field are as they were.
    const ref = { group: '', kind: 'Service', port: 9080 };
    expect(after.spec.rules[1]?.backendRefs).toEqual([{ ...ref, name: 'reviews-v1', weight: 0 }, { ...ref, name: 'reviews-v2', weight: 100 }]);
    expect(untouchable(after)).toEqual(untouchable(before));
    // The gates measured the versions by their backend Services.
    const query = (done.status?.analysis as { gates?: { query: string }[] } | undefined)?.gates?.[0]?.query ?? '';
    expect(query).toContain('destination_service_name="reviews-v2"');
    expect(query).not.toContain('destination_version');
    // Each step counted only once the mesh had accepted its generation.
    const accepted = after.status?.parents?.[0]?.conditions.find((x) => x.type === 'Accepted');
    expect(accepted).toMatchObject({ status: 'True', observedGeneration: after.metadata.generation });
  }, 120_000);

  it('rolls a canary with 50% errors back to 100% stable', async () => {
    const n = ns.failing;
    await behave(c, n, 'v2', { errorRate: 0.5 });
    await c.createRelease(n, release());
    const done = await waitForRelease(c, n, 'RolledBack', (r) => r.status?.phase === 'RolledBack', 60_000);
    expect(condition(done, 'Progressing')?.reason).toBe('AnalysisFailed');
    await routeAt(n, { 'reviews-v1': 100, 'reviews-v2': 0 });
    const failures = await c.eventsWith(n, ['AnalysisFailed']);
    expect(failures.some((e) => e.reason === 'AnalysisFailed')).toBe(true);
  }, 90_000);

  it('in Istio ambient mode, judges the canary on the waypoint\'s reports (auto) and walks it to Succeeded', async () => {
    const n = ns.ambient;
    await c.createRelease(n, release());
    const done = await waitForRelease(c, n, 'Succeeded', (r) => r.status?.phase === 'Succeeded', 90_000);
    const query = (done.status?.analysis as { gates?: { query: string }[] } | undefined)?.gates?.[0]?.query ?? '';
    expect(query).toContain('reporter="waypoint"');
    await routeAt(n, { 'reviews-v1': 0, 'reviews-v2': 100 });
  }, 120_000);

  it('in ambient mode without a waypoint, moves nothing and says how to add one', async () => {
    const n = ns.nowaypoint;
    await c.createRelease(n, release());
    const held = await waitForRelease(c, n, 'WaypointMissing', (r) => condition(r, 'TrafficRoutable')?.reason === 'WaypointMissing', 30_000);
    expect(condition(held, 'TrafficRoutable')?.message).toContain(`istioctl waypoint apply -n ${n}`);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await c.backendWeights(n)).toEqual({ 'reviews-v1': 1 });
    expect((await c.release(n))?.status?.canaryWeight ?? 0).toBe(0);
  }, 60_000);

  it('says so, in a condition and one Warning, when a VirtualService also routes the same Service', async () => {
    const n = ns.conflict;
    await c.custom.createNamespacedCustomObject({
      group: ISTIO, version: 'v1', namespace: n, plural: 'virtualservices',
      body: { apiVersion: `${ISTIO}/v1`, kind: 'VirtualService', metadata: { name: 'reviews-legacy' }, spec: bookinfoVirtualServiceSpec() },
    });
    await c.createRelease(n, release());
    const seen = await waitForRelease(c, n, 'a RouteConflict condition', (r) => condition(r, 'RouteConflict')?.status === 'True', 30_000);
    expect(condition(seen, 'RouteConflict')?.message).toContain(`VirtualService ${n}/reviews-legacy also route`);
    const warnings = await c.eventsWith(n, ['ConflictingRoutes']);
    expect(warnings.filter((e) => e.reason === 'ConflictingRoutes')).toHaveLength(1);
  }, 60_000);
});
