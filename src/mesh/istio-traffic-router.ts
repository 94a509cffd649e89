// The Istio adapter of TrafficRouter: reads VirtualServices and
// DestinationRules from informer caches and changes only the weights of the
// managed route(s) with a resourceVersion-guarded JSON Patch.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { Reason } from '../api/conditions.js';
import type { TrafficTarget, TrafficRouter } from '../controller/ports.js';
import type { TrafficObservation } from '../core/decide.js';
import { conflictGuard } from '../kube/errors.js';
import type { Watched } from '../kube/watched.js';
import { WriteTracker } from '../kube/write-tracker.js';
import { subsetsOf } from './destination-rule.js';
import { resolveManagedRoutes, weightPatch, type ReleaseTarget } from './virtual-service.js';

export const ISTIO_GROUP = 'networking.istio.io';
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

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
      return { traffic: { ok: false, reason: Reason.VirtualServiceNotFound, message: `VirtualService ${t.namespace}/${t.virtualService} (spec.virtualService.name) not found` } };
    }
    const dr = this.destinationRules.get(t.destinationRule, t.namespace);
    if (!dr) {
      return { traffic: { ok: false, reason: Reason.DestinationRuleNotFound, message: `DestinationRule ${t.namespace}/${t.destinationRule} (spec.destinationRule.name) not found` } };
    }
    const subsets = subsetsOf(dr);
    for (const [field, name] of [['spec.stable.subset', t.stableSubset], ['spec.canary.subset', t.canarySubset]] as const) {
      if (!subsets.some((s) => s.name === name)) {
        const known = subsets.map((s) => s.name).join(', ') || 'none';
        return { traffic: { ok: false, reason: Reason.SubsetNotFound, message: `${field}: subset "${name}" is not defined in DestinationRule ${t.namespace}/${t.destinationRule} (it has: ${known})` } };
      }
    }
    const resolved = resolveManagedRoutes(vs, releaseTarget(t));
    const labels = (name: string) => subsets.find((s) => s.name === name)?.labels ?? {};
    return { traffic: resolved, subsetLabels: { stable: labels(t.stableSubset), canary: labels(t.canarySubset) } };
  }

  async setCanaryPercent(t: TrafficTarget, percent: number): Promise<'written' | 'unchanged'> {
    const vs = this.virtualService(t);
    if (!vs) throw new Error(`VirtualService ${t.namespace}/${t.virtualService} not found`);
    const resolved = resolveManagedRoutes(vs, releaseTarget(t));
    if (!resolved.ok) throw new Error(resolved.message);
    const before = vs.metadata?.resourceVersion ?? '';
    const ops = weightPatch(before, resolved.routes, releaseTarget(t), percent);
    if (ops.length === 0) return 'unchanged';
    const updated = (await conflictGuard(`VirtualService ${t.namespace}/${t.virtualService}`, () =>
      this.api.patchNamespacedCustomObject(
        { group: ISTIO_GROUP, version: this.version, plural: 'virtualservices', namespace: t.namespace, name: t.virtualService, body: ops },
        jsonPatch,
      ),
    )) as KubernetesObject;
    this.writes.wrote(key(t), before, updated);
    return 'written';
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
