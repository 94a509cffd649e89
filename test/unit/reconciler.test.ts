import { beforeEach, describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { Phase, Reason } from '../../src/api/conditions.js';
import { FINALIZER, REQUEST_ANNOTATIONS } from '../../src/api/names.js';
import type { CanaryReleaseStatus } from '../../src/api/status.js';
import type { Decision } from '../../src/core/decide.js';
import { ConflictError, type CanaryReleaseObject } from '../../src/controller/ports.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { NOW, NS, TARGET, at, baseSpec, iso, istioRef, progressing, reviewsVs } from './release-fixtures.js';
import { FakeProbe, KEY, MemoryEventRecorder, MemoryReleaseStore, MemoryTrafficRouter, type Log } from './fakes/memory-ports.js';

function release(extra: { status?: CanaryReleaseStatus; finalizers?: string[]; deletionTimestamp?: Date; annotations?: Record<string, string>; spec?: unknown } = {}): CanaryReleaseObject {
  return {
    apiVersion: 'canary-operator.dev/v1alpha1',
    kind: 'CanaryRelease',
    metadata: {
      name: 'reviews-canary',
      namespace: NS,
      generation: 1,
      uid: 'uid-1',
      finalizers: extra.finalizers ?? [FINALIZER],
      annotations: extra.annotations,
      deletionTimestamp: extra.deletionTimestamp,
    },
    spec: extra.spec ?? baseSpec(),
    status: extra.status,
  };
}

let log: Log;
let store: MemoryReleaseStore;
let router: MemoryTrafficRouter;
let probe: FakeProbe;
let events: MemoryEventRecorder;
let clock: Date;
let decisions: Decision[];
let reconciler: Reconciler;

beforeEach(() => {
  log = [];
  store = new MemoryReleaseStore(log);
  router = new MemoryTrafficRouter(log);
  probe = new FakeProbe();
  events = new MemoryEventRecorder(log);
  clock = NOW;
  decisions = [];
  reconciler = new Reconciler({
    store, router, probe, events,
    log: pino({ enabled: false }),
    clock: () => clock,
    onDecision: (_r, d) => decisions.push(d),
  });
});

const status = (): CanaryReleaseStatus => store.stored().status as CanaryReleaseStatus;

describe('Reconciler: order of writes (intent first)', () => {
  // The status says what the route must become before the route is written.
  // A crash or a failed write between the two leaves a status the next
  // reconcile finishes; traffic written first would leave a route nobody's
  // status explains, which a retry then took for someone else's drift.
  test('a new release: finalizer, then status (step 1 recorded), then traffic, then the Started event (which tells the step)', async () => {
    store.put(release({ finalizers: [] }));
    const r = await reconciler.reconcile(KEY);
    expect(log).toEqual(['addFinalizer', 'writeStatus', 'setCanaryPercent:10', `event:${Reason.Started}`]);
    expect(store.stored().metadata?.finalizers).toEqual([FINALIZER]);
    expect(status()).toMatchObject({ phase: Phase.Progressing, currentStep: 1, canaryWeight: 10 });
    expect(router.canaryPercent()).toBe(10);
    expect(r.requeueAfterMs).toBe(60_000);
  });

  test('a new release whose canary is not available yet: finalizer, status, event; no traffic', async () => {
    store.put(release({ finalizers: [] }));
    probe.available = false;
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['addFinalizer', 'writeStatus', `event:${Reason.Started}`, `event:${Reason.WaitingForCanary}`]);
    expect(status()).toMatchObject({ phase: Phase.Pending, currentStep: 0 });
  });

  test('a step: status first, then traffic, then the event', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['writeStatus', 'setCanaryPercent:50', `event:${Reason.StepAdvanced}`]);
    expect(router.canaryPercent()).toBe(50);
    expect(status()).toMatchObject({ currentStep: 2, canaryWeight: 50, routeRevision: 7 });
  });

  test('all four at once: finalizer, status, traffic, events', async () => {
    store.put(release({ finalizers: [], status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['addFinalizer', 'writeStatus', 'setCanaryPercent:50', `event:${Reason.StepAdvanced}`]);
  });

  test('the status is written on the object the finalizer write returned (no self-conflict)', async () => {
    store.put(release({ finalizers: [] }));
    await expect(reconciler.reconcile(KEY)).resolves.toBeDefined();
    expect(store.stored().status).toBeDefined();
  });

  test('events are recorded against the object as written', async () => {
    store.put(release({ finalizers: [] }));
    await reconciler.reconcile(KEY);
    expect(events.recorded[0]?.release.metadata?.resourceVersion).toBe(store.stored().metadata?.resourceVersion);
  });

  test('deletion mid-release: traffic back to 0, then the finalizer removed, no status write, then the event', async () => {
    store.put(release({ status: progressing(2, 50, iso(-20)), deletionTimestamp: at(-1) }));
    router.vs = reviewsVs(50);
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['setCanaryPercent:0', 'removeFinalizer', `event:${Reason.TrafficRestored}`]);
    expect(router.canaryPercent()).toBe(0);
    expect(store.objects.has(KEY)).toBe(false);
  });

  test('deletion does not look at the canary workload', async () => {
    store.put(release({ status: progressing(2, 50, iso(-20)), deletionTimestamp: at(-1) }));
    router.vs = reviewsVs(50);
    await reconciler.reconcile(KEY);
    expect(probe.calls).toEqual([]);
  });
});

describe('Reconciler: writes only what changed', () => {
  test('a hold with an unchanged status writes nothing at all', async () => {
    store.put(release({ status: progressing(1, 10, iso(-20)) }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY); // conditions and message are filled in once
    log.length = 0;
    clock = at(5);
    const r = await reconciler.reconcile(KEY);
    expect(log).toEqual([]);
    expect(r.requeueAfterMs).toBe(35_000);
  });

  test('a whole release, reconciled three times at each moment it asks for, writes each weight once', async () => {
    store.put(release({ finalizers: [] }));
    let t = 0;
    for (let i = 0; i < 10 && status()?.phase !== Phase.Succeeded; i++) {
      clock = at(t);
      let r = await reconciler.reconcile(KEY);
      r = await reconciler.reconcile(KEY);
      r = await reconciler.reconcile(KEY);
      t += (r.requeueAfterMs ?? 0) / 1000;
    }
    expect(log.filter((l) => l.startsWith('setCanaryPercent'))).toEqual(['setCanaryPercent:10', 'setCanaryPercent:50', 'setCanaryPercent:100']);
    expect(log.filter((l) => l.startsWith('event:'))).toEqual([
      `event:${Reason.Started}`, `event:${Reason.StepAdvanced}`, `event:${Reason.Promoted}`,
    ]);
    expect(router.canaryPercent()).toBe(100);
    expect(status()).toMatchObject({ phase: Phase.Succeeded, canaryWeight: 100 });
    expect(t).toBe(180);
  });

  test('a Succeeded release records once that its last write landed, then writes nothing on later reconciles', async () => {
    store.put(release({ status: progressing(2, 50, iso(-120)) }));
    router.vs = reviewsVs(50);
    await reconciler.reconcile(KEY);
    expect(status().phase).toBe(Phase.Succeeded);
    log.length = 0;
    clock = at(60);
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['writeStatus']);
    expect(status()).toMatchObject({ routeRevision: router.vs.metadata.generation, previousCanaryWeight: 100 });
    log.length = 0;
    clock = at(3600);
    const r = await reconciler.reconcile(KEY);
    expect(log).toEqual([]);
    expect(r.requeueAfterMs).toBeUndefined();
  });

  test('after its last write landed, a finished release does not take a revert to the old weight for its own write', async () => {
    store.put(release({ status: progressing(2, 50, iso(-120)) }));
    router.vs = reviewsVs(50);
    await reconciler.reconcile(KEY);
    clock = at(60);
    await reconciler.reconcile(KEY);
    const vs = reviewsVs(50);
    vs.metadata = { ...router.vs.metadata };
    router.write(vs);
    log.length = 0;
    clock = at(120);
    await reconciler.reconcile(KEY);
    expect(router.canaryPercent()).toBe(50);
    expect(log.filter((l) => l.startsWith('setCanaryPercent'))).toEqual([]);
    expect(events.recorded.map((e) => e.event.reason)).toContain(Reason.TrafficDrift);
  });

  test('a missing release is not an error and writes nothing', async () => {
    expect(await reconciler.reconcile(`${NS}/gone`)).toEqual({});
    expect(log).toEqual([]);
  });

  test('a release with nothing to target is not observed', async () => {
    store.put(release({ spec: { service: 'reviews' } }));
    await reconciler.reconcile(KEY);
    expect(router.observed).toEqual([]);
    expect(log).toEqual(['writeStatus', `event:${Reason.InvalidSpec}`]);
  });

  test('the probe is asked about the canary and stable subset labels in the release namespace', async () => {
    store.put(release({ status: progressing(1, 10, iso(-20)) }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY);
    expect(probe.calls).toEqual([[NS, 'reviews', { version: 'v2' }], [NS, 'reviews', { version: 'v1' }]]);
  });

  test('the traffic target is that of the release in effect, not of an edited spec', async () => {
    store.put(release({ status: progressing(2, 50, iso(-20)), spec: { ...baseSpec(), canary: { subset: 'v3' } } }));
    router.vs = reviewsVs(50);
    await reconciler.reconcile(KEY);
    expect(router.observed[0]).toMatchObject({ stable: 'v1', canary: 'v2', ref: TARGET });
    // The replaced release's route to restore is recorded first, then written.
    expect(log).toEqual(['writeStatus', 'setCanaryPercent:0', `event:${Reason.Superseded}`, `event:${Reason.Started}`]);
    expect(status()).toMatchObject({ phase: Phase.Pending, canarySubset: 'v3' });
  });

  test('onDecision is told the decision that was applied', async () => {
    store.put(release({ finalizers: [] }));
    const r = await reconciler.reconcile(KEY);
    expect(decisions).toEqual([r.decision]);
  });
});

describe('Reconciler: conflicts and failed writes', () => {
  test('a ConflictError from the status write propagates', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    store.failNext.writeStatus = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await expect(reconciler.reconcile(KEY)).rejects.toBeInstanceOf(ConflictError);
  });

  test('a conflicting status write writes nothing else: no traffic, no events, no decision reported', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    store.failNext.writeStatus = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await reconciler.reconcile(KEY).catch(() => undefined);
    expect(events.recorded).toEqual([]);
    expect(log).toEqual(['writeStatus']);
    expect(router.canaryPercent()).toBe(10);
    expect(decisions).toEqual([]);
  });

  test('the retry on fresh state decides again and writes the transition once', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    store.failNext.writeStatus = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await reconciler.reconcile(KEY).catch(() => undefined);
    log.length = 0;
    clock = at(1);
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['writeStatus', 'setCanaryPercent:50', `event:${Reason.StepAdvanced}`]);
    expect(status()).toMatchObject({ currentStep: 2, canaryWeight: 50 });
  });

  test('a real conflict (the object changed since it was read) surfaces as ConflictError', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    const realGet = store.get.bind(store);
    store.get = (ns, name) => {
      const o = realGet(ns, name);
      // someone annotates the object right after the reconciler read it
      store.put({ ...store.stored(), metadata: { ...store.stored().metadata, annotations: { [REQUEST_ANNOTATIONS.promote]: 'p1' } } });
      return o;
    };
    await expect(reconciler.reconcile(KEY)).rejects.toBeInstanceOf(ConflictError);
    expect(events.recorded).toEqual([]);
  });

  test('a ConflictError from the finalizer write propagates before anything else is written', async () => {
    store.put(release({ finalizers: [], status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    store.failNext.addFinalizer = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await expect(reconciler.reconcile(KEY)).rejects.toBeInstanceOf(ConflictError);
    expect(log).toEqual(['addFinalizer']);
    expect(router.canaryPercent()).toBe(10);
  });

  test('a traffic write that fails after the status recorded the step: the retry finishes it once, without a drift warning', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    router.failNext = new Error('connection reset');
    await expect(reconciler.reconcile(KEY)).rejects.toThrow('connection reset');
    // The decision is recorded in status, so its Event is told even though the route write failed:
    // the retry finishes the write as our own and would not tell it again.
    expect(log).toEqual(['writeStatus', 'setCanaryPercent:50', 'event:StepAdvanced']);
    expect(status()).toMatchObject({ currentStep: 2, canaryWeight: 50 });
    log.length = 0;
    clock = at(2);
    await reconciler.reconcile(KEY);
    expect(router.canaryPercent()).toBe(50);
    expect(log).toEqual(['writeStatus', 'setCanaryPercent:50']);
    // The step starts when its traffic moved.
    expect(status().stepStartedAt).toBe(iso(2));
    const reasons = events.recorded.map((e) => e.event.reason);
    expect(reasons.filter((r) => r === Reason.StepAdvanced)).toHaveLength(1);
    expect(reasons).not.toContain(Reason.TrafficDrift);
  });

  test('a route write that keeps failing does not become a loop of status writes', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    for (let i = 0; i < 6; i++) {
      // Each of our own status writes comes back as an update event: reconciled again at once.
      router.failNext = new Error('the API server keeps failing');
      clock = at(i * 0.1);
      await reconciler.reconcile(KEY).catch(() => undefined);
    }
    expect(log.filter((l) => l === 'writeStatus')).toHaveLength(1);
    expect(log.filter((l) => l.startsWith('setCanaryPercent'))).toHaveLength(6);
  });

  test('a decided rollback whose traffic write failed is finished by the retry, even if the release was paused meanwhile', async () => {
    store.put(release({ status: progressing(1, 10, iso(-20)), annotations: { [REQUEST_ANNOTATIONS.abort]: 'a1' } }));
    router.vs = reviewsVs(10);
    router.failNext = new Error('timeout');
    await reconciler.reconcile(KEY).catch(() => undefined);
    expect(status()).toMatchObject({ phase: Phase.RolledBack, canaryWeight: 0 });
    // A person pauses right after (spec.paused); the retry must not bring the canary's traffic back.
    store.put({ ...store.stored(), spec: { ...baseSpec(), paused: true } });
    log.length = 0;
    clock = at(1);
    await reconciler.reconcile(KEY);
    expect(router.canaryPercent()).toBe(0);
    expect(status().phase).toBe(Phase.RolledBack);
    expect(log).toEqual(['setCanaryPercent:0']);
  });

  test('a crash between the status and the traffic write: a new process (no memory of the write) finishes it', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    router.failNext = new Error('process killed');
    await reconciler.reconcile(KEY).catch(() => undefined);
    const restarted = new Reconciler({ store, router, probe, events, log: pino({ enabled: false }), clock: () => at(3) });
    log.length = 0;
    await restarted.reconcile(KEY);
    expect(router.canaryPercent()).toBe(50);
    expect(events.recorded.map((e) => e.event.reason)).not.toContain(Reason.TrafficDrift);
  });

  test('a real edit of the route after the operator\'s write is drift: re-applied with a Warning', async () => {
    store.put(release({ status: progressing(1, 10, iso(-20)) }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY);
    router.write(reviewsVs(0)); // GitOps re-applies the original 100/0
    log.length = 0;
    await reconciler.reconcile(KEY);
    expect(router.canaryPercent()).toBe(10);
    expect(log).toEqual(['writeStatus', 'setCanaryPercent:10', `event:${Reason.TrafficDrift}`]);
  });

  test('a ConflictError from removing the finalizer propagates without events', async () => {
    store.put(release({ status: progressing(2, 50, iso(-20)), deletionTimestamp: at(-1) }));
    router.vs = reviewsVs(50);
    store.failNext.removeFinalizer = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await expect(reconciler.reconcile(KEY)).rejects.toBeInstanceOf(ConflictError);
    expect(events.recorded).toEqual([]);
  });
});

describe('Reconciler: one owner per route', () => {
  const other = (name: string, extra: { status?: CanaryReleaseStatus; spec?: unknown } = {}) => {
    const r = release(extra);
    r.metadata = { ...r.metadata, name, uid: `uid-${name}` };
    return r;
  };

  test('a release on a route another active release started on first holds at 0, names it once, and writes no traffic', async () => {
    store.put(other('first', { status: progressing(1, 10, iso(-30)), spec: baseSpec() }));
    router.vs = reviewsVs(10);
    store.put(release({ spec: { ...baseSpec(), canary: { subset: 'v3' } } }));
    await reconciler.reconcile(KEY);
    expect(log.filter((l) => l.startsWith('setCanaryPercent'))).toEqual([]);
    expect(status()).toMatchObject({ phase: Phase.Pending, canaryWeight: 0, currentStep: 0 });
    const routable = status().conditions?.find((c) => c.type === 'TrafficRoutable');
    expect(routable).toMatchObject({ status: 'False', reason: Reason.RouteInUse });
    expect(routable?.message).toContain(`CanaryRelease ${NS}/first`);
    expect(events.recorded.filter((e) => e.event.reason === Reason.RouteInUse)).toHaveLength(1);
    // Reconciled again and again: no second Event, no write at all.
    log.length = 0;
    for (let i = 1; i < 5; i++) {
      clock = at(i);
      await reconciler.reconcile(KEY);
    }
    expect(log).toEqual([]);
  });

  test('starts by itself once the owner has ended', async () => {
    const first = other('first', { status: progressing(1, 10, iso(-30)), spec: baseSpec() });
    store.put(first);
    store.put(release({ spec: { ...baseSpec(), canary: { subset: 'v3' } } }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY);
    // The owner is rolled back: the route is all v1 again and its status is terminal.
    store.put({ ...store.stored(`${NS}/first`), status: { ...progressing(1, 0, iso(-30)), phase: Phase.RolledBack } });
    router.write(reviewsVs(0));
    clock = at(5);
    await reconciler.reconcile(KEY);
    expect(status()).toMatchObject({ phase: Phase.Progressing, canarySubset: 'v3', currentStep: 1, canaryWeight: 10 });
  });

  test('releases naming disjoint routes of one VirtualService run side by side', async () => {
    store.put(other('first', { status: progressing(1, 10, iso(-30)), spec: { ...baseSpec(), virtualService: { name: 'reviews', routes: ['jason'] } } }));
    const s1 = store.stored(`${NS}/first`);
    store.put({ ...s1, status: { ...(s1.status as CanaryReleaseStatus), target: istioRef('reviews', { routes: ['jason'] }) } });
    store.put(release({ spec: { ...baseSpec(), virtualService: { name: 'reviews', routes: ['primary'] } } }));
    await reconciler.reconcile(KEY);
    expect(status().conditions?.find((c) => c.type === 'TrafficRoutable')?.reason).not.toBe(Reason.RouteInUse);
  });
});
