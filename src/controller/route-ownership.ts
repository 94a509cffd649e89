// One owner per route. Releases in a namespace that name the same
// VirtualService and service (and overlapping routes, when both name them)
// compete for it. The owner is the active release that holds the route
// (status.ownsRouteSince, set in the status write before its first traffic
// move); while nobody holds it, the waiting release that started first takes
// it, and a release not started yet comes after every waiting one. The others
// hold at 0 and start when the owner ends or is deleted. The work queue never
// runs two releases of one namespace at once, and this process sees its own
// status writes at once, so two releases cannot both take a route.
import { isActive, type RouteOwner } from '../core/decide.js';
import type { RouteRef } from '../core/plan.js';
import { CanaryReleaseStatusSchema, type CanaryReleaseStatus } from '../api/status.js';
import type { CanaryReleaseObject } from './ports.js';

interface Claim {
  key: string;
  /** The routes it claims: its own, and a replaced release's route still being restored. */
  targets: RouteRef[];
  /** Since when it holds the route; undefined while it waits for it. */
  holdsSince: number | undefined;
  startedAt: number;
  createdAt: number;
  status: CanaryReleaseStatus;
}

export function sameRoute(a: RouteRef, b: RouteRef): boolean {
  if (a.service !== b.service || a.virtualService.name !== b.virtualService.name) return false;
  const ra = a.virtualService.routes;
  const rb = b.virtualService.routes;
  // Without route names either may manage any route of the service: assume they meet.
  if (!ra || !rb) return true;
  return ra.some((r) => rb.includes(r));
}

const keyOf = (o: CanaryReleaseObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
const time = (v: unknown, fallback: number) => {
  const t = typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : Number.NaN;
  return Number.isFinite(t) ? Math.min(t, fallback) : fallback;
};

/** Whether a finished release's last traffic write has not reached its route yet (a crash or a failed write). */
export type PendingFinalWrite = (release: CanaryReleaseObject, status: CanaryReleaseStatus) => boolean;

function claimOf(o: CanaryReleaseObject, now: number, pending: PendingFinalWrite): Claim | undefined {
  const parsed = CanaryReleaseStatusSchema.safeParse(o.status ?? {});
  if (!parsed.success) return undefined;
  const st = parsed.data;
  if (!st.target) return undefined;
  // A finished release holds its route until its last write is there, so nobody starts on a route about to change.
  if (!isActive(st.phase) && !(st.ownsRouteSince && pending(o, st))) return undefined;
  return {
    key: keyOf(o), targets: st.restore ? [st.target, st.restore.target] : [st.target], holdsSince: st.ownsRouteSince === undefined ? undefined : time(st.ownsRouteSince, now),
    startedAt: time(st.releaseStartedAt, now), createdAt: time(o.metadata?.creationTimestamp, now), status: st,
  };
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
  self: CanaryReleaseObject, target: RouteRef, others: readonly CanaryReleaseObject[], now: Date, pending: PendingFinalWrite = () => false,
): RouteOwner | undefined {
  const t = now.getTime();
  const own = claimOf(self, t, pending);
  const inf = Number.POSITIVE_INFINITY;
  const mine: Claim = own ?? { key: keyOf(self), targets: [target], holdsSince: undefined, startedAt: inf, createdAt: inf, status: {} };
  let owner: Claim = mine;
  for (const o of others) {
    if (keyOf(o) === mine.key) continue;
    const c = claimOf(o, t, pending);
    if (c && c.targets.some((x) => sameRoute(x, target)) && before(c, owner)) owner = c;
  }
  if (owner === mine) return undefined;
  const routes = target.virtualService.routes;
  return {
    release: owner.key,
    description: `${owner.status.stableSubset} -> ${owner.status.canarySubset}, started at ${owner.status.releaseStartedAt}`,
    route: `VirtualService ${self.metadata?.namespace}/${target.virtualService.name}${routes ? ` route ${routes.map((r) => `"${r}"`).join(', ')}` : ''}`,
  };
}
