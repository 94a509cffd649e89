// The Istio provider: reads VirtualServices and DestinationRules from
// informer caches and changes only the weights of the managed route(s) with a
// resourceVersion-guarded JSON Patch.
import type { CustomObjectsApi, KubernetesObject } from '@kubernetes/client-node';
import { Reason } from '../../api/conditions.js';
import type { RouteRef } from '../../core/plan.js';
import type { RouteObservation } from '../../core/traffic.js';
import type { TrafficObservation, TrafficTarget } from '../../controller/ports.js';
import type { Watched } from '../../kube/watched.js';
import { WriteTracker } from '../../kube/write-tracker.js';
import { guardedPatch, jsonPatch } from '../guarded-patch.js';
import type { ProviderContext, ProviderFactory, TrafficProvider } from '../provider.js';
import { subsetsOf } from './destination-rule.js';
import { ISTIO_PROVIDER } from './istio-spec.js';
import { hostMatches, resolveManagedRoutes, routeView, weightPatch, type ReleaseTarget } from './virtual-service.js';

export const ISTIO_GROUP = 'networking.istio.io';
export const ISTIO_VERSIONS_BY_PREFERENCE = ['v1', 'v1beta1', 'v1alpha3'] as const;

/** The networking.istio.io version to speak: the newest served (v1 since Istio 1.22), unless pinned. */
export function chooseIstioVersion(served: readonly string[], pinned?: string): { ok: true; version: string } | { ok: false; message: string } {
  if (pinned) {
    return served.includes(pinned)
      ? { ok: true, version: pinned }
      : { ok: false, message: `ISTIO_API_VERSION=${pinned}, but the cluster serves networking.istio.io at: ${served.join(', ') || 'nothing (are the Istio CRDs installed?)'}` };
  }
  const v = ISTIO_VERSIONS_BY_PREFERENCE.find((p) => served.includes(p));
  return v ? { ok: true, version: v } : { ok: false, message: `the cluster does not serve VirtualServices at networking.istio.io ${ISTIO_VERSIONS_BY_PREFERENCE.join('/')}; install Istio's CRDs` };
}

export function istioProvider(pinnedVersion?: string): ProviderFactory {
  return {
    name: ISTIO_PROVIDER,
    kind: 'VirtualService',
    problem(served) {
      const chosen = chooseIstioVersion(served.get(ISTIO_GROUP) ?? [], pinnedVersion);
      return chosen.ok ? undefined : chosen.message;
    },
    create(ctx: ProviderContext) {
      const chosen = chooseIstioVersion(ctx.served.get(ISTIO_GROUP) ?? [], pinnedVersion);
      if (!chosen.ok) throw new Error(chosen.message);
      const version = chosen.version;
      const vs = ctx.watch<KubernetesObject>({ kind: 'VirtualService', group: ISTIO_GROUP, version, plural: 'virtualservices' });
      const dr = ctx.watch<KubernetesObject>({ kind: 'DestinationRule', group: ISTIO_GROUP, version, plural: 'destinationrules' });
      ctx.log.info({ provider: ISTIO_PROVIDER, version }, 'traffic provider ready');
      return new IstioTrafficRouter(ctx.custom, version, vs, dr);
    },
  };
}

export class IstioTrafficRouter implements TrafficProvider {
  readonly name = ISTIO_PROVIDER;
  readonly caches: Watched<KubernetesObject>[];
  private readonly writes = new WriteTracker<KubernetesObject>();

  constructor(
    private readonly api: CustomObjectsApi,
    /** The networking.istio.io version the cluster serves VirtualServices at (v1, v1beta1 or v1alpha3). */
    readonly version: string,
    private readonly virtualServices: Watched<KubernetesObject>,
    private readonly destinationRules: Watched<KubernetesObject>,
  ) {
    this.caches = [virtualServices, destinationRules];
  }

  references(ref: RouteRef): string[] {
    return [`VirtualService/${ref.name}`, `DestinationRule/${ref.uses.destinationRule}`, `Service/${ref.scope.service}`];
  }

  hostsOf(t: TrafficTarget): string[] {
    return t.ref.scope.service ? [t.ref.scope.service] : [];
  }

  routesFor(namespace: string, service: string): string[] {
    return this.virtualServices.list(namespace)
      .filter((vs) => {
        const hosts = (vs as { spec?: { hosts?: unknown } }).spec?.hosts;
        return Array.isArray(hosts) && hosts.some((h) => hostMatches(h, service, namespace));
      })
      .map((vs) => `VirtualService ${namespace}/${vs.metadata?.name}`);
  }

  observe(t: TrafficTarget): TrafficObservation {
    const vs = this.virtualService(t);
    if (!vs) {
      return { route: { ok: false, reason: Reason.VirtualServiceNotFound, message: `VirtualService ${t.namespace}/${t.ref.name} (spec.virtualService.name) not found` } };
    }
    const rt = releaseTarget(t);
    const resolved = resolveManagedRoutes(vs, rt);
    const view = resolved.ok ? routeView(resolved.routes, rt, vs.metadata?.generation ?? 0, vs.metadata?.uid ?? '') : undefined;
    const fail = (reason: Reason, message: string, unreachable: 'stable' | 'canary' | 'both'): { route: RouteObservation } =>
      ({ route: { ok: false, reason, message, view, unreachable } });
    const drName = t.ref.uses.destinationRule ?? '';
    const dr = this.destinationRules.get(drName, t.namespace);
    if (!dr) return fail(Reason.DestinationRuleNotFound, `DestinationRule ${t.namespace}/${drName} (spec.destinationRule.name) not found`, 'both');
    const subsets = subsetsOf(dr);
    const missing = (['stable', 'canary'] as const).filter((role) => !subsets.some((s) => s.name === t[role]));
    const first = missing[0];
    if (first) {
      const known = subsets.map((s) => s.name).join(', ') || 'none';
      return fail(Reason.SubsetNotFound, `spec.${first}.subset: subset "${t[first]}" is not defined in DestinationRule ${t.namespace}/${drName} (it has: ${known})`,
        missing.length > 1 ? 'both' : first);
    }
    const workload = (name: string) => ({ service: rt.service, labels: subsets.find((s) => s.name === name)?.labels ?? {}, identifiedBy: 'version' as const });
    const workloads = { stable: workload(t.stable), canary: workload(t.canary) };
    if (!resolved.ok) return { route: { ok: false, reason: resolved.reason, message: resolved.message }, workloads };
    return { route: { ok: true, view: view! }, workloads };
  }

  setCanaryPercent(t: TrafficTarget, percent: number): Promise<'written' | 'unchanged'> {
    const where = { group: ISTIO_GROUP, version: this.version, plural: 'virtualservices', namespace: t.namespace, name: t.ref.name };
    return guardedPatch({
      what: `VirtualService ${t.namespace}/${t.ref.name}`,
      current: this.virtualService(t),
      opsFor: (vs) => {
        const resolved = resolveManagedRoutes(vs, releaseTarget(t));
        return resolved.ok ? { ok: true, ops: weightPatch(vs.metadata?.resourceVersion ?? '', resolved.routes, releaseTarget(t), percent) } : resolved;
      },
      patch: (ops) => this.api.patchNamespacedCustomObject({ ...where, body: ops }, jsonPatch),
      reread: () => this.api.getNamespacedCustomObject(where),
      wrote: (before, updated) => this.writes.wrote(key(t), before, updated),
    });
  }

  private virtualService(t: TrafficTarget): KubernetesObject | undefined {
    return this.writes.freshest(key(t), this.virtualServices.get(t.ref.name, t.namespace));
  }
}

function key(t: TrafficTarget): string {
  return `${t.namespace}/${t.ref.name}`;
}

/** The release as the VirtualService edit reads it. */
export function releaseTarget(t: TrafficTarget): ReleaseTarget {
  return { namespace: t.namespace, service: t.ref.scope.service ?? '', stableSubset: t.stable, canarySubset: t.canary, routeNames: t.ref.rules };
}
