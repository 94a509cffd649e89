// One owner per route. Releases in a namespace that name the same route
// object and scope (a VirtualService and host; an HTTPRoute), with
// overlapping rules when both name them, compete for it. The owner is the active release that holds the route
// (status.ownsRouteSince, set in the status write before its first traffic
// move); while nobody holds it, the waiting release that started first takes
// it, and a release not started yet comes after every waiting one. The others
// hold at 0 and start when the owner ends or is deleted. The work queue never
// runs two releases naming one route object at once (its groups, see
// controller.ts), and this process sees its own status writes at once, so
// two releases cannot both take a route.
import { Phase, isActive } from '../api/conditions.js';
import { finalWriteSettled } from '../core/own-write.js';
import type { RouteOwner } from '../core/decide.js';
import { describeRoute, type RouteRef } from '../core/plan.js';
import { deepEqual } from '../util/deep-equal.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import { statusOf } from './snapshot.js';
import type { CanaryReleaseObject } from './ports.js';

/** A release's claim on one route. */
interface Claim {
  key: string;
  target: RouteRef;
  /** Since when it holds the route; undefined while it waits for it. */
  holdsSince: number | undefined;
  startedAt: number;
  createdAt: number;
  status: CanaryReleaseStatus;
}

export function sameRoute(a: RouteRef, b: RouteRef): boolean {
  if (a.provider !== b.provider || a.kind !== b.kind || a.name !== b.name || !deepEqual(a.scope, b.scope)) return false;
  // Named rules: the same route only when the two sets overlap; an unnamed one may be any rule.
  const ra = a.rules;
  const rb = b.rules;
  return !ra || !rb || ra.some((r) => rb.includes(r));
}

const keyOf = (o: CanaryReleaseObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
const time = (v: unknown, fallback: number) => {
  const t = typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : Number.NaN;
  return Number.isFinite(t) ? Math.min(t, fallback) : fallback;
};

/**
 * The routes a release claims: its own, held once it took it; and a replaced
 * release's route still being restored, held until that is done (its own
 * route is then only waited for).
 */
function claimsOf(o: CanaryReleaseObject, now: number): Claim[] {
  const st = statusOf(o);
  if (!st.target) return [];
  // A finished release holds its route until its last write is there, so nobody starts on a route about to change.
  if (!isActive(st.phase) && !(st.ownsRouteSince && st.phase !== Phase.Failed && !finalWriteSettled(st))) return [];
  const holds = st.ownsRouteSince === undefined ? undefined : time(st.ownsRouteSince, now);
  const base = { key: keyOf(o), startedAt: time(st.releaseStartedAt, now), createdAt: time(o.metadata?.creationTimestamp, now), status: st };
  const own: Claim = { ...base, target: st.target, holdsSince: st.restore ? undefined : holds };
  return st.restore ? [own, { ...base, target: st.restore.target, holdsSince: holds }] : [own];
}

/** Who comes first: a holder before a waiter, then the earlier hold, start, creation and name. */
function before(a: Claim, b: Claim): boolean {
  const ha = a.holdsSince ?? Number.POSITIVE_INFINITY;
  const hb = b.holdsSince ?? Number.POSITIVE_INFINITY;
  if (ha !== hb) return ha < hb;
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.key < b.key;
}

/**
 * The release that owns the route `target` names, when it is not `self`.
 * A release about to start (no claim yet) comes after every existing one.
 */
export function routeOwner(
  self: CanaryReleaseObject, target: RouteRef, others: readonly CanaryReleaseObject[], now: Date,
): RouteOwner | undefined {
  const t = now.getTime();
  const inf = Number.POSITIVE_INFINITY;
  const mine: Claim = claimsOf(self, t).find((c) => sameRoute(c.target, target))
    ?? { key: keyOf(self), target, holdsSince: undefined, startedAt: inf, createdAt: inf, status: {} };
  let owner: Claim = mine;
  for (const o of others) {
    // Cheap first: a release naming another route object has no claim here (sameRoute needs the same name),
    // and a namespace of a hundred releases is scanned on every reconcile of each.
    const st = statusOf(o);
    if (st.target?.name !== target.name && st.restore?.target.name !== target.name) continue;
    if (keyOf(o) === mine.key) continue;
    for (const c of claimsOf(o, t)) if (sameRoute(c.target, target) && before(c, owner)) owner = c;
  }
  if (owner === mine) return undefined;
  return {
    release: owner.key,
    description: `${owner.status.stableSubset} -> ${owner.status.canarySubset}, started at ${owner.status.releaseStartedAt}`,
    route: describeRoute(target, self.metadata?.namespace),
  };
}
