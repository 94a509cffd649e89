// A decision is recorded in status before its route write; these are the cases where that write failed
// or the world moved between the two, found in review. Each asserts what the retry must do.
import { beforeEach, describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { Reason } from '../../../src/api/conditions.js';
import { FINALIZER, REQUEST_ANNOTATIONS } from '../../../src/api/names.js';
import type { CanaryReleaseStatus } from '../../../src/api/status.js';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';
import { Reconciler } from '../../../src/controller/reconciler.js';
import { WatchedServices } from '../../../src/analysis/watched-services.js';
import { resolveManagedRoutes, routeView } from '../../../src/traffic/istio/virtual-service.js';
import { NOW, NS, baseSpec, iso, istioRef, progressing, reviewsVs, target } from '../release-fixtures.js';
import { FakeProbe, KEY, MemoryEventRecorder, MemoryReleaseStore, MemoryTrafficRouter } from '../fakes/memory-ports.js';

function release(status: CanaryReleaseStatus, spec: unknown = baseSpec(), annotations?: Record<string, string>): CanaryReleaseObject {
  return {
    apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease',
    metadata: { name: 'reviews-canary', namespace: NS, generation: 1, uid: 'u', finalizers: [FINALIZER], annotations }, spec, status,
  };
}

let log: string[];
let store: MemoryReleaseStore;
let router: MemoryTrafficRouter;
let events: MemoryEventRecorder;
let reconciler: Reconciler;
beforeEach(() => {
  log = [];
  store = new MemoryReleaseStore(log);
  router = new MemoryTrafficRouter(log);
  events = new MemoryEventRecorder(log);
  reconciler = new Reconciler({ store, router, probe: new FakeProbe(), events, log: pino({ enabled: false }), clock: () => NOW });
});

const weights = () => Object.fromEntries(
  (router.vs.spec.http[1]?.route ?? []).map((d: { destination: { subset: string }; weight?: number }) => [d.destination.subset, d.weight]));
const stored = () => store.stored().status as CanaryReleaseStatus;
const reasons = () => events.recorded.map((e) => e.event.reason);
const attempt = async (): Promise<string> => {
  try { await reconciler.reconcile(KEY); return 'ok'; } catch (e) { return (e as Error).message; }
};
/** The route as seen while one of its subsets is missing from the DestinationRule. */
function unroutable(reason: Reason, unreachable: 'stable' | 'canary' | 'both', message: string) {
  const r = resolveManagedRoutes(router.vs, target());
  if (!r.ok) throw new Error('fixture');
  router.unroutable = { ok: false, reason, message, unreachable, view: routeView(r.routes, target(), router.vs.metadata.generation, router.vs.metadata.uid ?? 'uid-vs') };
}
const abortRequested = () => ({ [REQUEST_ANNOTATIONS.abort]: '1' });
/** The release as the API server shows it once deleted (it keeps its finalizers). */
const deleted = (o: CanaryReleaseObject): CanaryReleaseObject => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: new Date(NOW.getTime() - 1000) } });

describe('a final route write that failed is finished by the retry', () => {
  test('a rollback because the canary subset vanished, whose write failed', async () => {
    router.vs = reviewsVs(10);
    unroutable(Reason.SubsetNotFound, 'canary', 'spec.canary.subset: subset "v2" is not defined');
    store.put(release(progressing(1, 10, iso(-300), { canaryLostSince: iso(-61), heldSince: iso(-61) })));
    router.failNext = new Error('connection reset');
    expect(await attempt()).toBe('connection reset');
    expect(stored().phase).toBe('RolledBack');
    for (let i = 0; i < 3; i++) await attempt();
    expect({ route: weights(), phase: stored().phase }).toEqual({ route: { v1: 100, v2: 0 }, phase: 'RolledBack' });
  });

  test('an abort whose write failed, then a spec edit to a new canary: the old canary loses its traffic first', async () => {
    router.vs = reviewsVs(50);
    store.put(release(progressing(2, 50, iso(-30)), baseSpec(), abortRequested()));
    router.failNext = new Error('connection reset');
    expect(await attempt()).toBe('connection reset');
    expect(stored().phase).toBe('RolledBack');
    const o = store.stored();
    store.put({ ...o, metadata: { ...o.metadata, generation: 2 }, spec: { ...baseSpec(), canary: { subset: 'v3' } } });
    for (let i = 0; i < 4; i++) await attempt();
    expect(weights()).toMatchObject({ v2: 0 });
  });

  test('an abort whose write failed, while someone else edited another route of the VirtualService', async () => {
    router.vs = reviewsVs(50);
    store.put(release(progressing(2, 50, iso(-30)), baseSpec(), abortRequested()));
    router.failNext = new Error('connection reset');
    expect(await attempt()).toBe('connection reset');
    const vs = structuredClone(router.vs);
    (vs.spec.http[0] as Record<string, unknown>).timeout = '5s';
    router.write(vs);
    for (let i = 0; i < 3; i++) await attempt();
    expect({ route: weights(), phase: stored().phase }).toEqual({ route: { v1: 100, v2: 0 }, phase: 'RolledBack' });
    expect(reasons()).not.toContain(Reason.TrafficDrift);
  });

  test('the Aborted Event is told once, even though the write after the status failed', async () => {
    router.vs = reviewsVs(50);
    store.put(release(progressing(2, 50, iso(-30)), baseSpec(), abortRequested()));
    router.failNext = new Error('connection reset');
    await attempt();
    await attempt();
    expect(weights()).toEqual({ v1: 100, v2: 0 });
    expect(reasons().filter((r) => r === Reason.Aborted)).toHaveLength(1);
  });
});

describe('abort while the route cannot be fully used', () => {
  test('with the DestinationRule gone (both subsets unreachable) the route is still set back to stable', async () => {
    router.vs = reviewsVs(50);
    unroutable(Reason.DestinationRuleNotFound, 'both', 'DestinationRule bookinfo/reviews not found');
    store.put(release(progressing(2, 50, iso(-30)), baseSpec(), abortRequested()));
    await attempt();
    expect({ phase: stored().phase, handled: stored().handledRequests, route: weights(), events: reasons() })
      .toMatchObject({ phase: 'RolledBack', handled: { abort: '1' }, route: { v1: 100, v2: 0 }, events: [Reason.Aborted] });
  });

  test('with only the stable subset gone, nothing is sent to it until the DestinationRule defines it again', async () => {
    router.vs = reviewsVs(50);
    unroutable(Reason.SubsetNotFound, 'stable', 'spec.stable.subset: subset "v1" is not defined');
    store.put(release(progressing(2, 50, iso(-30)), baseSpec(), abortRequested()));
    await attempt();
    await attempt();
    expect({ phase: stored().phase, route: weights() }).toEqual({ phase: 'RolledBack', route: { v1: 50, v2: 50 } });
    expect(stored().message).toContain('as soon as the DestinationRule defines v1 again');
    router.unroutable = undefined;
    await attempt();
    expect({ phase: stored().phase, route: weights() }).toEqual({ phase: 'RolledBack', route: { v1: 100, v2: 0 } });
    expect(reasons()).not.toContain(Reason.TrafficDrift);
  });
});

describe('a finished release deleted while its last write waits for the stable subset', () => {
  // Found by the property test (seed 20261204): removing the finalizer left 10% on the aborted canary, and
  // the next release on the route then moved its own canary in beside it.
  test('keeps its finalizer (and the route) until the write can be made, says so once, then goes', async () => {
    router.vs = reviewsVs(50);
    unroutable(Reason.SubsetNotFound, 'stable', 'spec.stable.subset: subset "v1" is not defined');
    store.put(release(progressing(2, 50, iso(-30)), baseSpec(), abortRequested()));
    await attempt();
    expect({ phase: stored().phase, route: weights() }).toEqual({ phase: 'RolledBack', route: { v1: 50, v2: 50 } });
    const o = store.stored();
    store.put(deleted(o));
    const before = events.recorded.length;
    for (let i = 0; i < 2; i++) await attempt();
    expect(store.stored().metadata?.finalizers).toEqual([FINALIZER]);
    expect(weights()).toEqual({ v1: 50, v2: 50 });
    const told = events.recorded.slice(before).map((e) => e.event);
    expect(told).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.SubsetNotFound })]);
    expect(told[0]?.message).toContain(`kubectl patch canaryrelease reviews-canary -n ${NS} --type=json`);
    expect(stored().message).toContain('waits: spec.stable.subset: subset "v1" is not defined');
    router.unroutable = undefined;
    await attempt();
    expect(weights()).toEqual({ v1: 100, v2: 0 });
    expect(log.slice(-2)).toEqual(['setCanaryPercent:0', 'removeFinalizer']);
  });
});

describe('an active release deleted while the stable subset is missing', () => {
  const writes = () => log.filter((l) => l.startsWith('setCanaryPercent') || l === 'removeFinalizer');
  // Returning its share to stable would send all of the route's traffic to a subset the DestinationRule does
  // not define: it waits, as an abort does, and keeps the route meanwhile.
  test('keeps its finalizer and its canary share until stable can take the traffic, says so once, then goes', async () => {
    router.vs = reviewsVs(50);
    unroutable(Reason.SubsetNotFound, 'stable', 'spec.stable.subset: subset "v1" is not defined');
    store.put(deleted(release(progressing(2, 50, iso(-30)))));
    for (let i = 0; i < 2; i++) await attempt();
    expect(store.stored().metadata?.finalizers).toEqual([FINALIZER]);
    expect(weights()).toEqual({ v1: 50, v2: 50 });
    const told = events.recorded.map((e) => e.event);
    expect(told).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.SubsetNotFound })]);
    expect(told[0]?.message).toContain(`kubectl patch canaryrelease reviews-canary -n ${NS} --type=json`);
    expect(stored().message).toContain('spec.stable.subset: subset "v1" is not defined');
    expect(stored().phase).toBe('Progressing');
    router.unroutable = undefined;
    await attempt();
    expect(weights()).toEqual({ v1: 100, v2: 0 });
    expect(writes()).toEqual(['setCanaryPercent:0', 'removeFinalizer']);
    expect(events.recorded.at(-1)?.event.reason).toBe(Reason.TrafficRestored);
  });

  test('while it waits, its Services leave the grouped queries of its round slot (it is not measured any more)', async () => {
    const watched = new WatchedServices();
    const measured = new Reconciler({ store, router, probe: new FakeProbe(), events, log: pino({ enabled: false }), clock: () => NOW, watched });
    router.vs = reviewsVs(50);
    unroutable(Reason.SubsetNotFound, 'stable', 'spec.stable.subset: subset "v1" is not defined');
    watched.set(KEY, ['reviews'], 0);
    watched.set(`${NS}/ratings-canary`, ['ratings'], 0);
    store.put(deleted(release(progressing(2, 50, iso(-30)))));
    await measured.reconcile(KEY);
    expect(store.stored().metadata?.finalizers).toEqual([FINALIZER]);
    expect(watched.list(0)).toEqual(['ratings']);
  });

  test('with the DestinationRule gone (both subsets unreachable) it still returns the route to stable and goes', async () => {
    router.vs = reviewsVs(50);
    unroutable(Reason.DestinationRuleNotFound, 'both', 'DestinationRule bookinfo/reviews not found');
    store.put(deleted(release(progressing(2, 50, iso(-30)))));
    await attempt();
    expect(weights()).toEqual({ v1: 100, v2: 0 });
    expect(writes()).toEqual(['setCanaryPercent:0', 'removeFinalizer']);
  });
});

describe('no traffic is moved onto a subset the DestinationRule does not define', () => {
  // Both found by the property test's invariant that a reconcile never adds weight on a missing subset.
  test('a canary that cannot serve, whose route was re-created at 0%, is not given its share back until it serves', async () => {
    router.vs = reviewsVs(0);
    unroutable(Reason.SubsetNotFound, 'canary', 'spec.canary.subset: subset "v2" is not defined');
    store.put(release(progressing(1, 10, iso(-300), { canaryLostSince: iso(-10), heldSince: iso(-10) })));
    for (let i = 0; i < 2; i++) await attempt();
    expect({ phase: stored().phase, route: weights() }).toEqual({ phase: 'Progressing', route: { v1: 100, v2: 0 } });
    expect(log.filter((l) => l.startsWith('setCanaryPercent'))).toEqual([]);
    router.unroutable = undefined;
    await attempt();
    expect({ phase: stored().phase, route: weights() }).toEqual({ phase: 'Progressing', route: { v1: 90, v2: 10 } });
  });

  test('a release replaced in the spec while its stable subset is missing returns its share only once stable is defined', async () => {
    router.vs = reviewsVs(10);
    unroutable(Reason.SubsetNotFound, 'stable', 'spec.stable.subset: subset "v1" is not defined');
    const o = release(progressing(1, 10, iso(-30)));
    store.put({ ...o, metadata: { ...o.metadata, generation: 2 }, spec: { ...baseSpec(), canary: { subset: 'v3' } } });
    for (let i = 0; i < 3; i++) await attempt();
    expect(weights()).toEqual({ v1: 90, v2: 10 });
    expect(stored().restore?.canarySubset).toBe('v2');
    expect(stored().message).toContain('its route cannot be changed yet: spec.stable.subset: subset "v1" is not defined');
    router.unroutable = undefined;
    await attempt();
    expect(weights()).toEqual({ v1: 100, v2: 0 });
    await attempt(); // the next look sees it back on stable and lets the new release start
    expect(stored().restore).toBeUndefined();
  });

  test('a replaced release deleted while its stable subset is missing keeps its finalizer until the old share is back on stable', async () => {
    // Found in review: without it the old canary's share stayed on the route and no release held it any more.
    router.vs = reviewsVs(10);
    unroutable(Reason.SubsetNotFound, 'stable', 'spec.stable.subset: subset "v1" is not defined');
    const o = release(progressing(1, 10, iso(-30)));
    store.put({ ...o, metadata: { ...o.metadata, generation: 2 }, spec: { ...baseSpec(), canary: { subset: 'v3' } } });
    await attempt();
    expect(stored().restore?.canarySubset).toBe('v2');
    const s1 = store.stored();
    store.put(deleted(s1));
    const before = events.recorded.length;
    for (let i = 0; i < 2; i++) await attempt();
    expect(store.stored().metadata?.finalizers).toEqual([FINALIZER]);
    expect(weights()).toEqual({ v1: 90, v2: 10 });
    const told = events.recorded.slice(before).map((e) => e.event);
    expect(told).toEqual([expect.objectContaining({ type: 'Warning', reason: Reason.SubsetNotFound })]);
    expect(told[0]?.message).toContain(`kubectl patch canaryrelease reviews-canary -n ${NS} --type=json`);
    router.unroutable = undefined;
    await attempt();
    expect(weights()).toEqual({ v1: 100, v2: 0 });
    expect(log.filter((l) => l.startsWith('setCanaryPercent') || l === 'removeFinalizer')).toEqual(['setCanaryPercent:0', 'removeFinalizer']);
  });

  test('a canary that cannot serve is not given back a share one of its two managed rules lost', async () => {
    // The first rule still shows the release's 10%; the second was reverted to 0.
    const vs = reviewsVs(0);
    vs.spec.http[0]!.route = [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 10 }] as never;
    router.vs = vs;
    router.missingSubsets.add('v2');
    const spec = { ...baseSpec(), virtualService: { name: 'reviews', routes: ['jason', 'primary'] } };
    store.put(release(progressing(1, 10, iso(-300), { target: istioRef('reviews', { routes: ['jason', 'primary'] }), canaryLostSince: iso(-10), heldSince: iso(-10) }), spec));
    for (let i = 0; i < 2; i++) await attempt();
    expect(stored().phase).toBe('Progressing');
    expect(log.filter((l) => l.startsWith('setCanaryPercent'))).toEqual([]);
    const rules = router.vs.spec.http.map((h) => h.route.map((d: { weight?: number }) => d.weight));
    expect(rules).toEqual([[90, 10], [100, 0]]);
  });
});

describe('a finished release and a route re-created or re-synced by GitOps', () => {
  test('a re-created VirtualService whose generation equals the recorded one is drift, not our pending write', async () => {
    const done = { ...progressing(3, 100, iso(-600)), phase: 'Succeeded' as const, currentStep: 3, routeRevision: 3, routeUid: 'uid-old',
      completedAt: iso(-600), ownsRouteSince: iso(-3600) };
    store.put(release(done));
    router.vs = reviewsVs(0);
    router.vs.metadata.generation = 3;
    router.vs.metadata.uid = 'uid-new';
    await attempt();
    expect({ route: weights(), events: reasons() }).toEqual({ route: { v1: 100, v2: 0 }, events: [Reason.TrafficDrift] });
  });

  test('the original VirtualService and a DestinationRule without the canary subset re-synced after Succeeded: reported as drift', async () => {
    const done = { ...progressing(3, 100, iso(-600)), phase: 'Succeeded' as const, currentStep: 3, routeRevision: 6, completedAt: iso(-600) };
    store.put(release(done));
    router.vs = reviewsVs(0);
    unroutable(Reason.SubsetNotFound, 'canary', 'spec.canary.subset: subset "v2" is not defined');
    await attempt();
    expect({ inSync: stored().conditions?.find((c) => c.type === 'RouteInSync')?.status, events: reasons() })
      .toEqual({ inSync: 'False', events: [Reason.TrafficDrift] });
  });
});
