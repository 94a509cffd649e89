// From a raw CanaryRelease object to what the decision function reads.
import { FINALIZER } from '../api/names.js';
import { CanaryReleaseStatusSchema } from '../api/status.js';
import { validateSpec } from '../api/validate.js';
import type { AnalysisContext } from '../api/validate-analysis.js';
import { effectiveSubsets, effectiveTarget, type ReleaseSnapshot } from '../core/decide.js';
import { resolvePlan, type RouteRef } from '../core/plan.js';
import type { CanaryReleaseObject, TrafficTarget } from './ports.js';

export function toSnapshot(obj: CanaryReleaseObject, ctx: AnalysisContext = {}): ReleaseSnapshot {
  const status = CanaryReleaseStatusSchema.safeParse(obj.status ?? {});
  const spec = validateSpec(obj.spec, ctx);
  return {
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    generation: obj.metadata?.generation ?? 0,
    deleting: Boolean(obj.metadata?.deletionTimestamp),
    hasFinalizer: (obj.metadata?.finalizers ?? []).includes(FINALIZER),
    annotations: obj.metadata?.annotations ?? {},
    plan: spec.ok ? { ok: true, plan: resolvePlan(spec.spec, { prometheusAddress: ctx.defaultPrometheusAddress }) } : spec,
    // The status is written only by the operator through a typed schema; an
    // unreadable one (hand-edited) starts from scratch rather than guessing.
    status: status.success ? status.data : {},
  };
}

/** A route reference with the subsets to manage on it, as the traffic router reads it. */
export function trafficTargetOf(namespace: string, ref: RouteRef, stable: string, canary: string): TrafficTarget {
  return {
    namespace,
    service: ref.service,
    virtualService: ref.virtualService.name,
    destinationRule: ref.destinationRule.name,
    routeNames: ref.virtualService.routes,
    stableSubset: stable,
    canarySubset: canary,
  };
}

/**
 * The traffic target of the release in effect. An invalid spec still yields
 * one when the names it needs are readable, so deletion can restore stable.
 */
export function trafficTarget(obj: CanaryReleaseObject, snap: ReleaseSnapshot): TrafficTarget | undefined {
  const subsets = effectiveSubsets(snap) ?? rawSubsets(obj);
  const ref = effectiveTarget(snap) ?? rawTarget(obj);
  if (!subsets || !ref) return undefined;
  return trafficTargetOf(snap.namespace, ref, subsets.stable, subsets.canary);
}

/** The route of a replaced release still to be returned to stable. */
export function restoreTarget(snap: ReleaseSnapshot): TrafficTarget | undefined {
  const r = snap.status.restore;
  return r && trafficTargetOf(snap.namespace, r.target, r.stableSubset, r.canarySubset);
}

type RawSpec = { service?: unknown; virtualService?: { name?: unknown; routes?: unknown }; destinationRule?: { name?: unknown }; stable?: { subset?: unknown }; canary?: { subset?: unknown } };

function rawTarget(obj: CanaryReleaseObject): RouteRef | undefined {
  const raw = (obj.spec ?? {}) as RawSpec;
  const service = str(raw.service);
  const vs = str(raw.virtualService?.name);
  const dr = str(raw.destinationRule?.name);
  if (!service || !vs || !dr) return undefined;
  const routes = Array.isArray(raw.virtualService?.routes) ? raw.virtualService.routes.filter((r): r is string => typeof r === 'string') : undefined;
  return { service, virtualService: routes ? { name: vs, routes } : { name: vs }, destinationRule: { name: dr } };
}

function rawSubsets(obj: CanaryReleaseObject): { stable: string; canary: string } | undefined {
  const raw = (obj.spec ?? {}) as RawSpec;
  const stable = str(raw.stable?.subset);
  const canary = str(raw.canary?.subset);
  return stable && canary ? { stable, canary } : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
