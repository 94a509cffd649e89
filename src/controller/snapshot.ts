// From a raw CanaryRelease object to what the decision function reads.
import { FINALIZER } from '../api/names.js';
import { CanaryReleaseStatusSchema } from '../api/status.js';
import { validateSpec } from '../api/validate.js';
import type { AnalysisContext } from '../api/validate-analysis.js';
import { effectiveSubsets, type ReleaseSnapshot } from '../core/decide.js';
import type { CanaryReleaseObject, TrafficTarget } from './ports.js';

export function toSnapshot(obj: CanaryReleaseObject, ctx: AnalysisContext = {}): ReleaseSnapshot {
  const status = CanaryReleaseStatusSchema.safeParse(obj.status ?? {});
  return {
    generation: obj.metadata?.generation ?? 0,
    deleting: Boolean(obj.metadata?.deletionTimestamp),
    hasFinalizer: (obj.metadata?.finalizers ?? []).includes(FINALIZER),
    annotations: obj.metadata?.annotations ?? {},
    spec: validateSpec(obj.spec, ctx),
    // The status is written only by the operator through a typed schema; an
    // unreadable one (hand-edited) starts from scratch rather than guessing.
    status: status.success ? status.data : {},
  };
}

/**
 * The traffic target of the release in effect. An invalid spec still yields
 * one when the names it needs are readable, so deletion can restore stable.
 */
export function trafficTarget(obj: CanaryReleaseObject, snap: ReleaseSnapshot): TrafficTarget | undefined {
  const subsets = effectiveSubsets(snap);
  if (!subsets) return undefined;
  const raw = (obj.spec ?? {}) as { service?: unknown; virtualService?: { name?: unknown; routes?: unknown }; destinationRule?: { name?: unknown } };
  const spec = snap.spec.ok ? snap.spec.spec : undefined;
  const service = spec?.service ?? str(raw.service);
  const virtualService = spec?.virtualService.name ?? str(raw.virtualService?.name);
  const destinationRule = spec?.destinationRule.name ?? str(raw.destinationRule?.name);
  if (!service || !virtualService || !destinationRule) return undefined;
  const routes = spec?.virtualService.routes ?? (Array.isArray(raw.virtualService?.routes) ? raw.virtualService.routes.filter((r): r is string => typeof r === 'string') : undefined);
  return {
    namespace: obj.metadata?.namespace ?? '',
    service,
    virtualService,
    destinationRule,
    routeNames: routes,
    stableSubset: subsets.stable,
    canarySubset: subsets.canary,
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
