import { beforeEach, describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { Phase, Reason } from '../../src/api/conditions.js';
import { FINALIZER, REQUEST_ANNOTATIONS } from '../../src/api/names.js';
import type { CanaryReleaseStatus } from '../../src/api/status.js';
import type { Decision, DecisionEvent, TrafficObservation } from '../../src/core/decide.js';
import {
  ConflictError,
  type CanaryReleaseObject, type CanaryWorkloadProbe, type EventRecorder, type ReleaseStore, type TrafficRouter, type TrafficTarget,
} from '../../src/controller/ports.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { resolveManagedRoutes, weightPatch, type ReleaseTarget } from '../../src/mesh/virtual-service.js';
import { NOW, NS, applyJsonPatch, at, baseSpec, iso, progressing, reviewsVs } from './release-fixtures.js';

const KEY = `${NS}/reviews-canary`;

/** Every write any fake makes, in order. */
type Log = string[];

class MemoryReleaseStore implements ReleaseStore {
  readonly objects = new Map<string, CanaryReleaseObject>();
  private rv = 100;
  failNext: Partial<Record<'writeStatus' | 'addFinalizer' | 'removeFinalizer', Error>> = {};
  constructor(private readonly log: Log) {}

  put(obj: CanaryReleaseObject): void {
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rv) };
    this.objects.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  }
  stored(): CanaryReleaseObject {
    return structuredClone(this.objects.get(KEY) as CanaryReleaseObject);
  }
  get(namespace: string, name: string): CanaryReleaseObject | undefined {
    const o = this.objects.get(`${namespace}/${name}`);
    return o && structuredClone(o);
  }
  private current(release: CanaryReleaseObject, op: keyof MemoryReleaseStore['failNext']): CanaryReleaseObject {
    const err = this.failNext[op];
    if (err) {
      delete this.failNext[op];
      throw err;
    }
    const key = `${release.metadata?.namespace}/${release.metadata?.name}`;
    const cur = this.objects.get(key);
    if (!cur) throw new Error(`${key} not found`);
    if (cur.metadata?.resourceVersion !== release.metadata?.resourceVersion) throw new ConflictError(`CanaryRelease ${key}`);
    return cur;
  }
  async writeStatus(release: CanaryReleaseObject, status: CanaryReleaseStatus): Promise<CanaryReleaseObject> {
    this.log.push('writeStatus');
    const cur = this.current(release, 'writeStatus');
    this.put({ ...cur, status: structuredClone(status) });
    return this.stored();
  }
  async addFinalizer(release: CanaryReleaseObject): Promise<CanaryReleaseObject> {
    this.log.push('addFinalizer');
    const cur = this.current(release, 'addFinalizer');
    this.put({ ...cur, metadata: { ...cur.metadata, finalizers: [...(cur.metadata?.finalizers ?? []), FINALIZER] } });
    return this.stored();
  }
  async removeFinalizer(release: CanaryReleaseObject): Promise<void> {
    this.log.push('removeFinalizer');
    const cur = this.current(release, 'removeFinalizer');
    const finalizers = (cur.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER);
    if (cur.metadata?.deletionTimestamp && finalizers.length === 0) this.objects.delete(`${cur.metadata.namespace}/${cur.metadata.name}`);
    else this.put({ ...cur, metadata: { ...cur.metadata, finalizers } });
  }
}

/** A TrafficRouter over one in-memory VirtualService, patched with the real weightPatch. */
class MemoryTrafficRouter implements TrafficRouter {
  vs: ReturnType<typeof reviewsVs> = reviewsVs(undefined);
  unroutable: TrafficObservation | undefined;
  failNext: Error | undefined;
  readonly observed: TrafficTarget[] = [];
  constructor(private readonly log: Log) {}

  observe(t: TrafficTarget): ReturnType<TrafficRouter['observe']> {
    this.observed.push(t);
    if (this.unroutable) return { traffic: this.unroutable };
    return {
      traffic: resolveManagedRoutes(this.vs, releaseTarget(t)),
      subsetLabels: { stable: { version: t.stableSubset }, canary: { version: t.canarySubset } },
    };
  }
  async setCanaryPercent(t: TrafficTarget, percent: number): Promise<'written' | 'unchanged'> {
    this.log.push(`setCanaryPercent:${percent}`);
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    const r = resolveManagedRoutes(this.vs, releaseTarget(t));
    if (!r.ok) throw new Error(r.message);
    const ops = weightPatch(this.vs.metadata.resourceVersion, r.routes, releaseTarget(t), percent);
    if (ops.length === 0) return 'unchanged';
    this.vs = applyJsonPatch(this.vs, ops);
    this.vs.metadata.resourceVersion = String(Number(this.vs.metadata.resourceVersion) + 1);
    return 'written';
  }
  canaryPercent(): number {
    const r = resolveManagedRoutes(this.vs, { namespace: NS, service: 'reviews', stableSubset: 'v1', canarySubset: 'v2' });
    if (!r.ok) throw new Error(r.message);
    return r.routes[0]?.canaryWeight ?? -1;
  }
}

function releaseTarget(t: TrafficTarget): ReleaseTarget {
  return { namespace: t.namespace, service: t.service, stableSubset: t.stableSubset, canarySubset: t.canarySubset, routeNames: t.routeNames };
}

class FakeProbe implements CanaryWorkloadProbe {
  available = true;
  readonly calls: [string, string, Record<string, string>][] = [];
  check(namespace: string, service: string, subsetLabels: Record<string, string>) {
    this.calls.push([namespace, service, subsetLabels]);
    return { available: this.available, message: this.available ? 'Deployment reviews-v2 2/2 available' : 'Deployment reviews-v2 0/2 available' };
  }
}

class MemoryEventRecorder implements EventRecorder {
  readonly recorded: { release: CanaryReleaseObject; event: DecisionEvent }[] = [];
  constructor(private readonly log: Log) {}
  async record(release: CanaryReleaseObject, event: DecisionEvent): Promise<void> {
    this.log.push(`event:${event.reason}`);
    this.recorded.push({ release, event });
  }
}

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

describe('Reconciler: order of writes', () => {
  test('a new release: finalizer, then status, then the Started event; no traffic', async () => {
    store.put(release({ finalizers: [] }));
    const r = await reconciler.reconcile(KEY);
    expect(log).toEqual(['addFinalizer', 'writeStatus', `event:${Reason.Started}`]);
    expect(store.stored().metadata?.finalizers).toEqual([FINALIZER]);
    expect(status()).toMatchObject({ phase: Phase.Pending, currentStep: 0 });
    expect(r.requeueAfterMs).toBe(0);
  });

  test('a step: traffic first, then status, then the event', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['setCanaryPercent:50', 'writeStatus', `event:${Reason.StepAdvanced}`]);
    expect(router.canaryPercent()).toBe(50);
    expect(status()).toMatchObject({ currentStep: 2, canaryWeight: 50 });
  });

  test('all four at once: finalizer, traffic, status, events', async () => {
    store.put(release({ finalizers: [], status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['addFinalizer', 'setCanaryPercent:50', 'writeStatus', `event:${Reason.StepAdvanced}`]);
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
      `event:${Reason.Started}`, `event:${Reason.StepAdvanced}`, `event:${Reason.StepAdvanced}`, `event:${Reason.Promoted}`,
    ]);
    expect(router.canaryPercent()).toBe(100);
    expect(status()).toMatchObject({ phase: Phase.Succeeded, canaryWeight: 100 });
    expect(t).toBe(180);
  });

  test('a Succeeded release writes nothing on later reconciles', async () => {
    store.put(release({ status: progressing(2, 50, iso(-120)) }));
    router.vs = reviewsVs(50);
    await reconciler.reconcile(KEY);
    expect(status().phase).toBe(Phase.Succeeded);
    log.length = 0;
    clock = at(3600);
    const r = await reconciler.reconcile(KEY);
    expect(log).toEqual([]);
    expect(r.requeueAfterMs).toBeUndefined();
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

  test('the probe is asked about the canary subset labels in the release namespace', async () => {
    store.put(release({ status: progressing(1, 10, iso(-20)) }));
    router.vs = reviewsVs(10);
    await reconciler.reconcile(KEY);
    expect(probe.calls).toEqual([[NS, 'reviews', { version: 'v2' }]]);
  });

  test('the traffic target is that of the release in effect, not of an edited spec', async () => {
    store.put(release({ status: progressing(2, 50, iso(-20)), spec: { ...baseSpec(), canary: { subset: 'v3' } } }));
    router.vs = reviewsVs(50);
    await reconciler.reconcile(KEY);
    expect(router.observed[0]).toMatchObject({ stableSubset: 'v1', canarySubset: 'v2', virtualService: 'reviews', destinationRule: 'reviews' });
    expect(log).toEqual(['setCanaryPercent:0', 'writeStatus', `event:${Reason.Superseded}`, `event:${Reason.Started}`]);
    expect(status()).toMatchObject({ phase: Phase.Pending, canarySubset: 'v3' });
  });

  test('onDecision is told the decision that was applied', async () => {
    store.put(release({ finalizers: [] }));
    const r = await reconciler.reconcile(KEY);
    expect(decisions).toEqual([r.decision]);
  });
});

describe('Reconciler: conflicts', () => {
  test('a ConflictError from the status write propagates', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    store.failNext.writeStatus = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await expect(reconciler.reconcile(KEY)).rejects.toBeInstanceOf(ConflictError);
  });

  test('events are not recorded when the status write conflicts', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    store.failNext.writeStatus = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await reconciler.reconcile(KEY).catch(() => undefined);
    expect(events.recorded).toEqual([]);
    expect(log).toEqual(['setCanaryPercent:50', 'writeStatus']);
    expect(decisions).toEqual([]);
  });

  test('the retry on fresh state does not write the traffic a second time', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    store.failNext.writeStatus = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await reconciler.reconcile(KEY).catch(() => undefined);
    log.length = 0;
    clock = at(1);
    await reconciler.reconcile(KEY);
    expect(log).toEqual(['writeStatus', `event:${Reason.StepAdvanced}`]);
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

  test('a ConflictError from the traffic write propagates with no status write or event', async () => {
    store.put(release({ status: progressing(1, 10, iso(-60)) }));
    router.vs = reviewsVs(10);
    router.failNext = new ConflictError('VirtualService bookinfo/reviews');
    await expect(reconciler.reconcile(KEY)).rejects.toBeInstanceOf(ConflictError);
    expect(log).toEqual(['setCanaryPercent:50']);
    expect(events.recorded).toEqual([]);
    expect(status()).toMatchObject({ currentStep: 1 });
  });

  test('a ConflictError from removing the finalizer propagates without events', async () => {
    store.put(release({ status: progressing(2, 50, iso(-20)), deletionTimestamp: at(-1) }));
    router.vs = reviewsVs(50);
    store.failNext.removeFinalizer = new ConflictError('CanaryRelease bookinfo/reviews-canary');
    await expect(reconciler.reconcile(KEY)).rejects.toBeInstanceOf(ConflictError);
    expect(events.recorded).toEqual([]);
  });
});
