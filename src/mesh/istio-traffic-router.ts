// The Istio adapter of TrafficRouter: reads VirtualServices and
// DestinationRules from informer caches and changes only the weights of the
// managed route(s) with a resourceVersion-guarded JSON Patch.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { Reason } from '../api/conditions.js';
import type { TrafficRouter, TrafficTarget } from '../controller/ports.js';
import type { RouteObservation } from '../core/traffic.js';
import { ConflictError } from '../controller/ports.js';
import { conflictGuard } from '../kube/errors.js';
import type { Watched } from '../kube/watched.js';
import { WriteTracker } from '../kube/write-tracker.js';
import { subsetsOf } from './destination-rule.js';
import { resolveManagedRoutes, routeView, weightPatch, type ReleaseTarget } from './virtual-service.js';

export const ISTIO_GROUP = 'networking.istio.io';
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
/** Writes that lose a race are retried on the live object this many times before the reconcile gives up. */
const WRITE_ATTEMPTS = 3;

export class IstioTrafficRouter implements TrafficRouter {
  private readonly writes = new WriteTracker<KubernetesObject>();

  constructor(
    private readonly api: CustomObjectsApi,
    /** The networking.istio.io version the cluster serves VirtualServices at (v1, v1beta1 or v1alpha3). */
    private readonly version: string,
    private readonly virtualServices: Watched<KubernetesObject>,
    private readonly destinationRules: Watched<KubernetesObject>,
  ) {}

  observe(t: TrafficTarget): ReturnType<TrafficRouter['observe']> {
    const vs = this.virtualService(t);
    if (!vs) {
      return { route: { ok: false, reason: Reason.VirtualServiceNotFound, message: `VirtualService ${t.namespace}/${t.virtualService} (spec.virtualService.name) not found` } };
    }
    const resolved = resolveManagedRoutes(vs, releaseTarget(t));
    const view = resolved.ok ? routeView(resolved.routes, releaseTarget(t), vs.metadata?.generation ?? 0, vs.metadata?.uid ?? '') : undefined;
    const fail = (reason: Reason, message: string, unreachable: 'stable' | 'canary' | 'both'): { route: RouteObservation } =>
      ({ route: { ok: false, reason, message, view, unreachable } });
    const dr = this.destinationRules.get(t.destinationRule, t.namespace);
    if (!dr) return fail(Reason.DestinationRuleNotFound, `DestinationRule ${t.namespace}/${t.destinationRule} (spec.destinationRule.name) not found`, 'both');
    const subsets = subsetsOf(dr);
    const missing = (['stable', 'canary'] as const).filter((role) => !subsets.some((s) => s.name === (role === 'stable' ? t.stableSubset : t.canarySubset)));
    const first = missing[0];
    if (first) {
      const name = first === 'stable' ? t.stableSubset : t.canarySubset;
      const known = subsets.map((s) => s.name).join(', ') || 'none';
      return fail(Reason.SubsetNotFound, `spec.${first}.subset: subset "${name}" is not defined in DestinationRule ${t.namespace}/${t.destinationRule} (it has: ${known})`,
        missing.length > 1 ? 'both' : first);
    }
    const labels = (name: string) => subsets.find((s) => s.name === name)?.labels ?? {};
    const subsetLabels = { stable: labels(t.stableSubset), canary: labels(t.canarySubset) };
    if (!resolved.ok) return { route: { ok: false, reason: resolved.reason, message: resolved.message }, subsetLabels };
    return { route: { ok: true, view: view! }, subsetLabels };
  }

  async setCanaryPercent(t: TrafficTarget, percent: number): Promise<'written' | 'unchanged'> {
    let vs = this.virtualService(t);
    for (let attempt = 1; ; attempt++) {
      if (!vs) throw new Error(`VirtualService ${t.namespace}/${t.virtualService} not found`);
      const resolved = resolveManagedRoutes(vs, releaseTarget(t));
      if (!resolved.ok) throw new Error(resolved.message);
      const before = vs.metadata?.resourceVersion ?? '';
      const ops = weightPatch(before, resolved.routes, releaseTarget(t), percent);
      if (ops.length === 0) return 'unchanged';
      try {
        const updated = (await conflictGuard(`VirtualService ${t.namespace}/${t.virtualService}`, () =>
          this.api.patchNamespacedCustomObject(
            { group: ISTIO_GROUP, version: this.version, plural: 'virtualservices', namespace: t.namespace, name: t.virtualService, body: ops },
            jsonPatch,
          ),
        )) as KubernetesObject;
        this.writes.wrote(key(t), before, updated);
        return 'written';
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= WRITE_ATTEMPTS) throw err;
        // Someone wrote the object meanwhile: the weight to set is recorded, so set it on what is there now.
        vs = (await this.api.getNamespacedCustomObject({ group: ISTIO_GROUP, version: this.version, plural: 'virtualservices', namespace: t.namespace, name: t.virtualService })) as KubernetesObject;
      }
    }
  }

  private virtualService(t: TrafficTarget): KubernetesObject | undefined {
    return this.writes.freshest(key(t), this.virtualServices.get(t.virtualService, t.namespace));
  }
}

function key(t: TrafficTarget): string {
  return `${t.namespace}/${t.virtualService}`;
}

function releaseTarget(t: TrafficTarget): ReleaseTarget {
  return { namespace: t.namespace, service: t.service, stableSubset: t.stableSubset, canarySubset: t.canarySubset, routeNames: t.routeNames };
}
