// In-memory stand-ins for the reconciler's ports: a release store with
// resourceVersion conflicts, a traffic router over one VirtualService patched
// with the real weightPatch (every write bumps its generation), a workload
// probe and an event recorder. Every write is logged in order.
import { Reason } from '../../../src/api/conditions.js';
import { FINALIZER } from '../../../src/api/names.js';
import type { CanaryReleaseStatus } from '../../../src/api/status.js';
import type { DecisionEvent } from '../../../src/core/decide.js';
import type { RouteObservation } from '../../../src/core/traffic.js';
import {
  ConflictError,
  type CanaryReleaseObject, type EventRecorder, type ReleaseStore, type TrafficRouter, type TrafficTarget, type WorkloadProbe, type WorkloadRef,
} from '../../../src/controller/ports.js';
import { resolveManagedRoutes, routeView, weightPatch, type ReleaseTarget } from '../../../src/traffic/istio/virtual-service.js';
import { NS, applyJsonPatch, reviewsVs } from '../release-fixtures.js';

export const KEY = `${NS}/reviews-canary`;
const keyOf = (o: CanaryReleaseObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;

/** Every write any fake makes, in order. */
export type Log = string[];

export class MemoryReleaseStore implements ReleaseStore {
  readonly objects = new Map<string, CanaryReleaseObject>();
  private rv = 100;
  failNext: Partial<Record<'writeStatus' | 'addFinalizer' | 'removeFinalizer', Error>> = {};
  constructor(private readonly log: Log) {}

  put(obj: CanaryReleaseObject): void {
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rv) };
    this.objects.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  }
  stored(key = KEY): CanaryReleaseObject {
    return structuredClone(this.objects.get(key) as CanaryReleaseObject);
  }
  get(namespace: string, name: string): CanaryReleaseObject | undefined {
    const o = this.objects.get(`${namespace}/${name}`);
    return o && structuredClone(o);
  }
  list(namespace: string): CanaryReleaseObject[] {
    return [...this.objects.values()].filter((o) => o.metadata?.namespace === namespace).map((o) => structuredClone(o));
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
    return this.stored(keyOf(cur));
  }
  async addFinalizer(release: CanaryReleaseObject): Promise<CanaryReleaseObject> {
    this.log.push('addFinalizer');
    const cur = this.current(release, 'addFinalizer');
    this.put({ ...cur, metadata: { ...cur.metadata, finalizers: [...(cur.metadata?.finalizers ?? []), FINALIZER] } });
    return this.stored(keyOf(cur));
  }
  async removeFinalizer(release: CanaryReleaseObject): Promise<void> {
    this.log.push('removeFinalizer');
    const cur = this.current(release, 'removeFinalizer');
    const finalizers = (cur.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER);
    if (cur.metadata?.deletionTimestamp && finalizers.length === 0) this.objects.delete(`${cur.metadata.namespace}/${cur.metadata.name}`);
    else this.put({ ...cur, metadata: { ...cur.metadata, finalizers } });
  }
}

/** A TrafficRouter over one in-memory VirtualService, patched with the real weightPatch; every write bumps its generation. */
export class MemoryTrafficRouter implements TrafficRouter {
  vs: ReturnType<typeof reviewsVs> = reviewsVs(undefined);
  unroutable: RouteObservation | undefined;
  /** Subsets the DestinationRule does not define (any more). */
  readonly missingSubsets = new Set<string>();
  failNext: Error | undefined;
  readonly observed: TrafficTarget[] = [];
  constructor(private readonly log: Log) {}

  observe(t: TrafficTarget): ReturnType<TrafficRouter['observe']> {
    this.observed.push(t);
    if (this.unroutable) return { route: this.unroutable };
    const r = resolveManagedRoutes(this.vs, releaseTarget(t));
    const lost = [t.stable, t.canary].filter((s) => this.missingSubsets.has(s));
    if (lost.length > 0) {
      // As the Istio router does: the route is still read (and writable), the DestinationRule lacks a subset.
      const unreachable = lost.length === 2 ? 'both' : lost[0] === t.stable ? 'stable' : 'canary';
      const view = r.ok ? routeView(r.routes, releaseTarget(t), this.vs.metadata.generation, this.vs.metadata.uid ?? 'uid-vs') : undefined;
      return { route: { ok: false, reason: Reason.SubsetNotFound, message: `subset "${lost[0]}" is not defined in DestinationRule reviews`, unreachable, view } };
    }
    return {
      route: r.ok ? { ok: true, view: routeView(r.routes, releaseTarget(t), this.vs.metadata.generation, this.vs.metadata.uid ?? 'uid-vs') } : r,
      workloads: {
        stable: { service: releaseTarget(t).service, labels: { version: t.stable }, identifiedBy: 'version' },
        canary: { service: releaseTarget(t).service, labels: { version: t.canary }, identifiedBy: 'version' },
      },
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
    this.write(applyJsonPatch(this.vs, ops));
    return 'written';
  }
  /** Someone (or the operator) writes the object: a new resourceVersion and generation. */
  write(vs: ReturnType<typeof reviewsVs>): void {
    this.vs = vs;
    this.vs.metadata.resourceVersion = String(Number(this.vs.metadata.resourceVersion) + 1);
    this.vs.metadata.generation += 1;
  }
  canaryPercent(): number {
    const r = resolveManagedRoutes(this.vs, { namespace: NS, service: 'reviews', stableSubset: 'v1', canarySubset: 'v2' });
    if (!r.ok) throw new Error(r.message);
    return r.routes[0]?.canaryWeight ?? -1;
  }
}

export function releaseTarget(t: TrafficTarget): ReleaseTarget {
  return { namespace: t.namespace, service: t.ref.scope.service ?? '', stableSubset: t.stable, canarySubset: t.canary, routeNames: t.ref.rules };
}

export class FakeProbe implements WorkloadProbe {
  /** false: no workload is available. */
  available = true;
  /** Versions (the subsets' version label) whose workload is not available. */
  readonly down = new Set<string>();
  readonly calls: [string, string, Record<string, string>][] = [];
  check(namespace: string, workload: WorkloadRef) {
    const subsetLabels = workload.labels;
    this.calls.push([namespace, workload.service, subsetLabels]);
    const version = subsetLabels.version ?? '?';
    const up = this.available && !this.down.has(version);
    return { available: up, message: up ? `Deployment reviews-${version} 2/2 available` : `Deployment reviews-${version} 0/2 available` };
  }
}

export class MemoryEventRecorder implements EventRecorder {
  readonly recorded: { release: CanaryReleaseObject; event: DecisionEvent }[] = [];
  constructor(private readonly log: Log) {}
  async record(release: CanaryReleaseObject, event: DecisionEvent): Promise<void> {
    this.log.push(`event:${event.reason}`);
    this.recorded.push({ release, event });
  }
}

