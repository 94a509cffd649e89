// From a raw CanaryRelease object to what the decision function reads.
import { FINALIZER } from '../api/names.js';
import { CanaryReleaseStatusSchema, type CanaryReleaseStatus } from '../api/status.js';
import { validateSpec } from '../api/validate.js';
import type { AnalysisContext } from '../api/validate-analysis.js';
import { effectiveSubsets, effectiveTarget, type PlanResult, type ReleaseSnapshot } from '../core/decide.js';
import { resolvePlan, type RouteRef } from '../core/plan.js';
import { deepEqual } from '../util/deep-equal.js';
import type { CanaryReleaseObject, TrafficTarget } from './ports.js';

// A release is looked at many times per version of its object (its rounds,
// its timers, every other release of its namespace asking who owns a route),
// so its spec and status are parsed once per object: the caches hand out the
// same object until it changes. What these return is shared; never mutate it.
const statuses = new WeakMap<object, CanaryReleaseStatus>();
const plans = new WeakMap<object, { ctx: AnalysisContext; plan: PlanResult }>();

/**
 * The release's status as the schema reads it. The status is written only by
 * the operator through a typed schema; an unreadable one (hand-edited) starts
 * from scratch rather than guessing.
 */
export function statusOf(obj: CanaryReleaseObject): CanaryReleaseStatus {
  let status = statuses.get(obj);
  if (!status) {
    const parsed = CanaryReleaseStatusSchema.safeParse(obj.status ?? {});
    // The schema's output is a copy. When it reads the same as the cached object's own status (all but a status
    // of an older format), that one is used: a second copy per release cost about 1.5 KiB (heap snapshot, 1,000 releases).
    status = !parsed.success ? {} : deepEqual(parsed.data, obj.status) ? (obj.status as CanaryReleaseStatus) : parsed.data;
    statuses.set(obj, status);
  }
  return status;
}

function planOf(obj: CanaryReleaseObject, ctx: AnalysisContext): PlanResult {
  const known = plans.get(obj);
  if (known?.ctx === ctx) return known.plan;
  const spec = validateSpec(obj.spec, ctx);
  const plan: PlanResult = spec.ok ? { ok: true, plan: resolvePlan(spec.spec, spec.route, { prometheusAddress: ctx.defaultPrometheusAddress, spreadKey: obj.metadata?.uid }) } : spec;
  plans.set(obj, { ctx, plan });
  return plan;
}

/** A timestamp as the client hands it (the API's string, or a Date, perhaps of another realm), in ms. */
function timeMs(v: unknown): number | undefined {
  const t = typeof v === 'string' ? Date.parse(v) : Object.prototype.toString.call(v) === '[object Date]' ? (v as Date).getTime() : Number.NaN;
  return Number.isFinite(t) ? t : undefined;
}

const NO_CONTEXT: AnalysisContext = {};

export function toSnapshot(obj: CanaryReleaseObject, ctx: AnalysisContext = NO_CONTEXT): ReleaseSnapshot {
  return {
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    generation: obj.metadata?.generation ?? 0,
    deleting: Boolean(obj.metadata?.deletionTimestamp),
    hasFinalizer: (obj.metadata?.finalizers ?? []).includes(FINALIZER),
    createdAtMs: timeMs(obj.metadata?.creationTimestamp),
    annotations: obj.metadata?.annotations ?? {},
    plan: planOf(obj, ctx),
    status: statusOf(obj),
  };
}

/** A route reference with the versions to manage on it, as the traffic router reads it. */
export function trafficTargetOf(namespace: string, ref: RouteRef, stable: string, canary: string): TrafficTarget {
  return { namespace, ref, stable, canary };
}

/**
 * The traffic target of the release in effect: the status's once it started
 * (so deletion restores stable even when the spec is invalid now), else the plan's.
 */
export function trafficTarget(snap: ReleaseSnapshot): TrafficTarget | undefined {
  const subsets = effectiveSubsets(snap);
  const ref = effectiveTarget(snap);
  if (!subsets || !ref) return undefined;
  return trafficTargetOf(snap.namespace, ref, subsets.stable, subsets.canary);
}

/** The route of a replaced release still to be returned to stable. */
export function restoreTarget(snap: ReleaseSnapshot): TrafficTarget | undefined {
  const r = snap.status.restore;
  return r && trafficTargetOf(snap.namespace, r.target, r.stableSubset, r.canarySubset);
}
