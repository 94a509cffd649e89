// Pure reading and editing of an Istio VirtualService. The operator owns only
// the weights of the stable and canary destinations in the managed HTTP
// route(s); every other route, destination and field is left as it is, which
// is why edits are JSON Patch operations on single weights, never a rewrite.
import { Reason } from '../../api/conditions.js';
import type { RouteView } from '../../core/traffic.js';
import { splitView, weightsFor, type ManagedSplit } from '../weighted-split.js';

export interface ReleaseTarget {
  namespace: string;
  /** The mesh host: a Service name in the release's namespace. */
  service: string;
  stableSubset: string;
  canarySubset: string;
  /** Route names chosen in the spec; without them the route is found by its destinations. */
  routeNames?: string[] | undefined;
}

/** A managed HTTP route of the VirtualService: its weighted split, and how it spells the host. */
export interface ManagedRoute extends ManagedSplit {
  /** The host spelling the route already uses for the service (kept when adding a destination). */
  host: string;
}

export type RouteResolution =
  | { ok: true; routes: ManagedRoute[] }
  | { ok: false; reason: Reason; message: string };

export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown };

interface RouteDestination {
  destination?: { host?: unknown; subset?: unknown };
  weight?: unknown;
}
interface HttpRoute {
  name?: unknown;
  match?: unknown;
  route?: RouteDestination[];
}

/** Whether a destination host names the release's service (short, namespaced or FQDN form). */
export function hostMatches(host: unknown, service: string, namespace: string): boolean {
  if (typeof host !== 'string') return false;
  return (
    host === service ||
    host === `${service}.${namespace}` ||
    host === `${service}.${namespace}.svc` ||
    host.startsWith(`${service}.${namespace}.svc.`)
  );
}

function httpRoutes(vs: unknown): HttpRoute[] {
  const http = (vs as { spec?: { http?: unknown } } | undefined)?.spec?.http;
  return Array.isArray(http) ? (http as HttpRoute[]) : [];
}

/** Istio: a lone destination without a weight gets all traffic; otherwise a missing weight is 0. */
function effectiveWeight(route: RouteDestination[], i: number): number {
  const w = route[i]?.weight;
  if (typeof w === 'number') return w;
  return route.length === 1 ? 100 : 0;
}

function subsetIndex(route: RouteDestination[], t: ReleaseTarget, subset: string): number | undefined {
  const i = route.findIndex((d) => hostMatches(d.destination?.host, t.service, t.namespace) && d.destination?.subset === subset);
  return i < 0 ? undefined : i;
}

function describeRoute(r: HttpRoute, index: number): string {
  return typeof r.name === 'string' ? `"${r.name}"` : `#${index}`;
}

function toManaged(r: HttpRoute, index: number, t: ReleaseTarget): ManagedRoute {
  const dests = r.route ?? [];
  const stableIndex = subsetIndex(dests, t, t.stableSubset);
  const canaryIndex = subsetIndex(dests, t, t.canarySubset);
  let others = 0;
  dests.forEach((_, i) => {
    if (i !== stableIndex && i !== canaryIndex) others += effectiveWeight(dests, i);
  });
  const anyHost = dests[stableIndex ?? canaryIndex ?? -1]?.destination?.host;
  return {
    index,
    name: typeof r.name === 'string' ? r.name : undefined,
    stableIndex,
    canaryIndex,
    stableWeight: stableIndex === undefined ? 0 : effectiveWeight(dests, stableIndex),
    canaryWeight: canaryIndex === undefined ? 0 : effectiveWeight(dests, canaryIndex),
    budget: 100 - others,
    total: 100,
    host: typeof anyHost === 'string' ? anyHost : t.service,
  };
}

/**
 * Finds the route(s) whose weights the release manages: the named ones, or the
 * one route that sends the service's stable or canary subset traffic. When
 * several do, the one without a match block (the default route) is chosen, so
 * header routes such as bookinfo's `end-user: jason` are never touched.
 */
export function resolveManagedRoutes(vs: unknown, t: ReleaseTarget): RouteResolution {
  const routes = httpRoutes(vs);
  const sendsToRelease = (r: HttpRoute) =>
    subsetIndex(r.route ?? [], t, t.stableSubset) !== undefined || subsetIndex(r.route ?? [], t, t.canarySubset) !== undefined;
  let chosen: number[];
  if (t.routeNames?.length) {
    chosen = [];
    for (const name of t.routeNames) {
      const i = routes.findIndex((r) => r.name === name);
      if (i < 0) return { ok: false, reason: Reason.RouteNotFound, message: `spec.virtualService.routes: the VirtualService has no HTTP route named "${name}"` };
      if (!sendsToRelease(routes[i] as HttpRoute)) {
        return {
          ok: false,
          reason: Reason.RouteNotFound,
          message: `spec.virtualService.routes: route "${name}" has no destination ${t.service} with subset ${t.stableSubset} or ${t.canarySubset}`,
        };
      }
      chosen.push(i);
    }
  } else {
    const candidates = routes.flatMap((r, i) => (sendsToRelease(r) ? [i] : []));
    const defaults = candidates.filter((i) => routes[i]?.match === undefined);
    if (candidates.length === 1) chosen = candidates;
    else if (defaults.length === 1) chosen = defaults;
    else if (candidates.length === 0) {
      return {
        ok: false,
        reason: Reason.RouteNotFound,
        message: `no HTTP route sends traffic to ${t.service} subset ${t.stableSubset} or ${t.canarySubset}; add a destination {host: ${t.service}, subset: ${t.stableSubset}} to the route to manage`,
      };
    } else {
      const names = (defaults.length ? defaults : candidates).map((i) => describeRoute(routes[i] as HttpRoute, i)).join(', ');
      return {
        ok: false,
        reason: Reason.RouteAmbiguous,
        message: `several HTTP routes (${names}) send traffic to ${t.service} subset ${t.stableSubset} or ${t.canarySubset}; name the one(s) to manage in spec.virtualService.routes`,
      };
    }
  }
  const managed = chosen.map((i) => toManaged(routes[i] as HttpRoute, i, t));
  const starved = managed.find((m) => m.budget <= 0);
  if (starved) {
    return {
      ok: false,
      reason: Reason.NoTrafficBudget,
      message: `route ${describeRoute(routes[starved.index] as HttpRoute, starved.index)} sends all its traffic to destinations other than ${t.service} subsets ${t.stableSubset}/${t.canarySubset}, so there is nothing to shift`,
    };
  }
  return { ok: true, routes: managed };
}

/**
 * JSON Patch that sets the managed routes to `percent`, guarded by the
 * object's resourceVersion so a concurrent writer causes a conflict, never a
 * lost update. Empty when nothing needs to change.
 */
export function weightPatch(resourceVersion: string, routes: ManagedRoute[], t: ReleaseTarget, percent: number): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  for (const r of routes) {
    const want = weightsFor(r, percent);
    const base = `/spec/http/${r.index}/route`;
    const set = (index: number | undefined, subset: string, current: number, weight: number) => {
      if (index === undefined) {
        if (weight > 0) ops.push({ op: 'add', path: `${base}/-`, value: { destination: { host: r.host, subset }, weight } });
      } else if (current !== weight) {
        ops.push({ op: 'add', path: `${base}/${index}/weight`, value: weight });
      }
    };
    set(r.stableIndex, t.stableSubset, r.stableWeight, want.stable);
    set(r.canaryIndex, t.canarySubset, r.canaryWeight, want.canary);
  }
  if (ops.length === 0) return [];
  return [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }, ...ops];
}

/** The provider-neutral view of the managed route(s) that the decision function reads. */
export function routeView(routes: ManagedRoute[], t: ReleaseTarget, revision: number, uid: string): RouteView {
  return splitView(routes, { stable: t.stableSubset, canary: t.canarySubset }, revision, uid);
}
