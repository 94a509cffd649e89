// Shared fixtures for the unit tests: real VirtualService-shaped objects, a
// fixed clock and small builders for snapshots and statuses.
import type { CanaryReleaseStatus } from '../../src/api/status.js';
import { validateSpec } from '../../src/api/validate.js';
import type { Observations, PlanResult, ReleaseSnapshot } from '../../src/core/decide.js';
import { resolvePlan, type RouteRef } from '../../src/core/plan.js';
import type { RouteObservation } from '../../src/core/traffic.js';
import { resolveManagedRoutes, routeView, type JsonPatchOp, type ReleaseTarget } from '../../src/traffic/istio/virtual-service.js';

export const NS = 'bookinfo';
export const NOW = new Date('2025-03-01T12:00:00.000Z');
/** NOW shifted by seconds, as a Date. */
export const at = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000);
/** NOW shifted by seconds, as an ISO string. */
export const iso = (seconds: number): string => at(seconds).toISOString();

export const baseSpec = () => ({
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' },
  canary: { subset: 'v2' },
  steps: [
    { weight: 10, duration: '1m' },
    { weight: 50, duration: '2m' },
    { weight: 100 },
  ],
});

export const target = (stableSubset = 'v1', canarySubset = 'v2', routeNames?: string[]): ReleaseTarget => ({
  namespace: NS,
  service: 'reviews',
  stableSubset,
  canarySubset,
  routeNames,
});

/**
 * The bookinfo reviews VirtualService: a header route for `end-user: jason`
 * to v3 and the default route with v1/v2 weights (canary weight `canary`).
 * With canary undefined, the default route has a lone v1 destination without
 * a weight, as in the bookinfo sample.
 */
export function reviewsVs(canary?: number, opts: { stable?: string; canarySubset?: string } = {}) {
  const stable = opts.stable ?? 'v1';
  const canarySubset = opts.canarySubset ?? 'v2';
  const defaultRoute =
    canary === undefined
      ? [{ destination: { host: 'reviews', subset: stable } }]
      : [
          { destination: { host: 'reviews', subset: stable }, weight: 100 - canary },
          { destination: { host: 'reviews', subset: canarySubset }, weight: canary },
        ];
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: NS, resourceVersion: '4711', generation: 7, uid: 'uid-vs' as string | undefined },
    spec: {
      hosts: ['reviews'],
      http: [
        {
          name: 'jason',
          match: [{ headers: { 'end-user': { exact: 'jason' } } }],
          route: [{ destination: { host: 'reviews', subset: 'v3' } }],
        },
        { name: 'primary', route: defaultRoute },
      ],
    },
  };
}

/** The route observation for the reviews VS with the canary at `canary` percent (revision 7 unless given). */
export function trafficAt(canary?: number, stable = 'v1', canarySubset = 'v2', revision = 7): RouteObservation {
  const r = resolveManagedRoutes(reviewsVs(canary, { stable, canarySubset }), target(stable, canarySubset));
  if (!r.ok) throw new Error(`fixture VS did not resolve: ${r.message}`);
  return { ok: true, view: routeView(r.routes, target(stable, canarySubset), revision, 'uid-vs') };
}

export const AVAILABLE = { available: true, message: 'Deployment reviews-v2: 2/2 replicas available' };
export const UNAVAILABLE = { available: false, message: 'Deployment reviews-v2: 0/2 replicas available' };

export const STABLE_AVAILABLE = { available: true, message: 'Deployment reviews-v1: 2/2 replicas available' };

export function obs(canary: number | undefined, workload: Observations['canary'] = AVAILABLE, extra: Partial<Observations> = {}): Observations {
  return { route: trafficAt(canary), canary: workload, stable: STABLE_AVAILABLE, ...extra };
}

/** A plan result for a raw spec, as toSnapshot makes it. */
export function planOf(spec: unknown, prometheusAddress?: string): PlanResult {
  const v = validateSpec(spec, { defaultPrometheusAddress: prometheusAddress });
  return v.ok ? { ok: true, plan: resolvePlan(v.spec, v.route, { prometheusAddress }) } : v;
}

export interface SnapOptions {
  spec?: unknown;
  status?: CanaryReleaseStatus;
  annotations?: Record<string, string>;
  hasFinalizer?: boolean;
  deleting?: boolean;
  generation?: number;
  /** metadata.creationTimestamp, in ms. */
  createdAtMs?: number;
}

export function snap(o: SnapOptions = {}): ReleaseSnapshot {
  return {
    namespace: NS,
    name: 'reviews',
    generation: o.generation ?? 1,
    deleting: o.deleting ?? false,
    hasFinalizer: o.hasFinalizer ?? true,
    annotations: o.annotations ?? {},
    plan: planOf(o.spec === undefined ? baseSpec() : o.spec, 'http://prometheus.test:9090'),
    status: o.status ?? {},
    ...(o.createdAtMs === undefined ? {} : { createdAtMs: o.createdAtMs }),
  };
}

/** The route of the base spec as the Istio provider names it (VirtualService reviews for host reviews). */
export const istioRef = (vs = 'reviews', o: { routes?: string[]; service?: string; destinationRule?: string } = {}): RouteRef => ({
  provider: 'istio', kind: 'VirtualService', name: vs, ...(o.routes ? { rules: o.routes } : {}),
  scope: { service: o.service ?? 'reviews' }, uses: { destinationRule: o.destinationRule ?? 'reviews' },
});
export const TARGET: RouteRef = istioRef();

/** A status in the middle of the v1 -> v2 release with the base spec's three steps. */
export function progressing(step: number, weight: number, stepStartedAt: string, extra: Partial<CanaryReleaseStatus> = {}): CanaryReleaseStatus {
  return {
    phase: 'Progressing',
    observedGeneration: 1,
    stableSubset: 'v1',
    canarySubset: 'v2',
    currentStep: step,
    totalSteps: 3,
    canaryWeight: weight,
    target: structuredClone(TARGET),
    routeRevision: 7,
    releaseStartedAt: iso(-3600),
    measureFrom: iso(-3600),
    stepStartedAt,
    ...extra,
  };
}

export function pending(extra: Partial<CanaryReleaseStatus> = {}): CanaryReleaseStatus {
  return {
    phase: 'Pending',
    observedGeneration: 1,
    stableSubset: 'v1',
    canarySubset: 'v2',
    currentStep: 0,
    totalSteps: 3,
    canaryWeight: 0,
    target: structuredClone(TARGET),
    releaseStartedAt: iso(-60),
    measureFrom: iso(-60),
    ...extra,
  };
}

/** A tiny RFC 6902 applier for the ops weightPatch emits (add, replace, test). */
export function applyJsonPatch<T>(doc: T, ops: JsonPatchOp[]): T {
  const out = structuredClone(doc) as unknown;
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let parent = out as Record<string, unknown> | unknown[];
    for (const p of parts) {
      const next = Array.isArray(parent) ? parent[Number(p)] : parent[p];
      if (next === undefined || next === null || typeof next !== 'object') throw new Error(`path ${op.path} does not exist`);
      parent = next as Record<string, unknown> | unknown[];
    }
    if (op.op === 'test') {
      const cur = Array.isArray(parent) ? parent[Number(last)] : parent[last];
      if (JSON.stringify(cur) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
    } else if (Array.isArray(parent)) {
      if (last === '-') {
        if (op.op !== 'add') throw new Error(`${op.op} cannot use "-"`);
        parent.push(structuredClone(op.value));
      } else if (op.op === 'add') parent.splice(Number(last), 0, structuredClone(op.value));
      else {
        if (Number(last) >= parent.length) throw new Error(`replace of missing ${op.path}`);
        parent[Number(last)] = structuredClone(op.value);
      }
    } else {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`replace of missing ${op.path}`);
      parent[last] = structuredClone(op.value);
    }
  }
  return out as T;
}
