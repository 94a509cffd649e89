// The Gateway API provider: GAMMA HTTPRoutes (parentRef a Service) whose rule
// splits traffic over one backend Service per version. Reads HTTPRoutes from
// an informer cache, writes only the managed backendRefs' weights with a
// resourceVersion-guarded JSON Patch (no labels, no annotations, no rewrite:
// Argo CD stays in sync), and tells the core whether the mesh accepted the
// route's current generation (status.parents).
import type { CustomObjectsApi, KubernetesObject, V1Service } from '@kubernetes/client-node';
import { Reason } from '../../api/conditions.js';
import type { RouteRef } from '../../core/plan.js';
import type { TrafficObservation, TrafficTarget } from '../../controller/ports.js';
import type { Watched } from '../../kube/watched.js';
import { WriteTracker } from '../../kube/write-tracker.js';
import { guardedPatch, jsonPatch } from '../guarded-patch.js';
import type { ProviderContext, ProviderFactory, TrafficProvider } from '../provider.js';
import { GATEWAY_API_PROVIDER } from './http-route-spec.js';
import { parentServices, resolveManagedRules, ruleView, ruleWeightPatch, type HttpRouteTarget } from './http-route.js';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_API_VERSION = 'v1';

export function gatewayApiProvider(): ProviderFactory {
  return {
    name: GATEWAY_API_PROVIDER,
    kind: 'HTTPRoute',
    problem(served) {
      return (served.get(GATEWAY_API_GROUP) ?? []).includes(GATEWAY_API_VERSION)
        ? undefined
        : `the cluster does not serve HTTPRoutes at ${GATEWAY_API_GROUP}/${GATEWAY_API_VERSION}; install the Gateway API standard-channel CRDs (v1.1 or later) and restart the operator`;
    },
    create(ctx: ProviderContext) {
      const routes = ctx.watch<KubernetesObject>({ kind: 'HTTPRoute', group: GATEWAY_API_GROUP, version: GATEWAY_API_VERSION, plural: 'httproutes' });
      ctx.log.info({ provider: GATEWAY_API_PROVIDER, version: GATEWAY_API_VERSION }, 'traffic provider ready');
      return new HttpRouteProvider(ctx.custom, routes, ctx.services);
    },
  };
}

export class HttpRouteProvider implements TrafficProvider {
  readonly name = GATEWAY_API_PROVIDER;
  readonly caches: Watched<KubernetesObject>[];
  private readonly writes = new WriteTracker<KubernetesObject>();

  constructor(
    private readonly api: CustomObjectsApi,
    private readonly routes: Watched<KubernetesObject>,
    private readonly services: Watched<V1Service & KubernetesObject>,
  ) {
    this.caches = [routes];
  }

  references(ref: RouteRef, stable: string, canary: string): string[] {
    return [`HTTPRoute/${ref.name}`, `Service/${stable}`, `Service/${canary}`];
  }

  hostsOf(t: TrafficTarget): string[] {
    const route = this.route(t);
    return route ? parentServices(route) : [];
  }

  routesFor(namespace: string, service: string): string[] {
    return this.routes.list(namespace)
      .filter((r) => parentServices(r).includes(service))
      .map((r) => `HTTPRoute ${namespace}/${r.metadata?.name}`);
  }

  observe(t: TrafficTarget): TrafficObservation {
    const route = this.route(t);
    if (!route) return { route: { ok: false, reason: Reason.HTTPRouteNotFound, message: `HTTPRoute ${t.namespace}/${t.ref.name} (spec.httpRoute.name) not found` } };
    const ht = httpRouteTarget(t);
    const resolved = resolveManagedRules(route, ht);
    const view = resolved.ok ? ruleView(resolved.rules, ht, route) : undefined;
    const missing = (['stable', 'canary'] as const).filter((role) => !this.services.get(t[role], t.namespace));
    const first = missing[0];
    if (first) {
      return {
        route: {
          ok: false, reason: Reason.BackendServiceNotFound, view, unreachable: missing.length > 1 ? 'both' : first,
          message: `spec.${first}.service: Service ${t.namespace}/${t[first]} not found; each version needs its own Service (selecting only that version's pods)`,
        },
      };
    }
    const workload = (service: string) => ({ service, labels: {}, identifiedBy: 'service' as const });
    const workloads = { stable: workload(t.stable), canary: workload(t.canary) };
    if (!resolved.ok) return { route: { ok: false, reason: resolved.reason, message: resolved.message }, workloads };
    return { route: { ok: true, view: view! }, workloads };
  }

  setCanaryPercent(t: TrafficTarget, percent: number): Promise<'written' | 'unchanged'> {
    const where = { group: GATEWAY_API_GROUP, version: GATEWAY_API_VERSION, plural: 'httproutes', namespace: t.namespace, name: t.ref.name };
    return guardedPatch({
      what: `HTTPRoute ${t.namespace}/${t.ref.name}`,
      current: this.route(t),
      opsFor: (route) => {
        const resolved = resolveManagedRules(route, httpRouteTarget(t));
        return resolved.ok ? { ok: true, ops: ruleWeightPatch(route.metadata?.resourceVersion ?? '', resolved.rules, httpRouteTarget(t), percent) } : resolved;
      },
      patch: (ops) => this.api.patchNamespacedCustomObject({ ...where, body: ops }, jsonPatch),
      reread: () => this.api.getNamespacedCustomObject(where),
      wrote: (before, updated) => this.writes.wrote(key(t), before, updated),
    });
  }

  private route(t: TrafficTarget): KubernetesObject | undefined {
    return this.writes.freshest(key(t), this.routes.get(t.ref.name, t.namespace));
  }
}

function key(t: TrafficTarget): string {
  return `${t.namespace}/${t.ref.name}`;
}

export function httpRouteTarget(t: TrafficTarget): HttpRouteTarget {
  return { namespace: t.namespace, stableService: t.stable, canaryService: t.canary, ruleNames: t.ref.rules };
}
