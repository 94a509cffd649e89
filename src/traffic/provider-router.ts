// The one TrafficRouter the reconciler sees: it hands each target to the
// provider its RouteRef names, and adds what no single provider can see: other
// providers' routes steering the same Service (a VirtualService beside an
// HTTPRoute, a known Istio pitfall).
import { Reason } from '../api/conditions.js';
import type { RouteRef } from '../core/plan.js';
import type { TrafficObservation, TrafficRouter, TrafficTarget } from '../controller/ports.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { dataplaneOf, waypointMissing } from './dataplane.js';
import type { TrafficProvider } from './provider.js';

/** Reads Namespaces and Services (for their data-plane labels); either may be missing. */
export interface DataplaneObjects {
  namespace(name: string): KubernetesObject | undefined;
  service(namespace: string, name: string): KubernetesObject | undefined;
}

export class ProviderRouter implements TrafficRouter {
  private readonly byName: ReadonlyMap<string, TrafficProvider>;

  constructor(
    providers: readonly TrafficProvider[],
    /** Providers that could not start, with what to install (shown on releases that name them). */
    private readonly unavailable: ReadonlyMap<string, string> = new Map(),
    private readonly objects?: DataplaneObjects,
  ) {
    this.byName = new Map(providers.map((p) => [p.name, p]));
  }

  get providers(): TrafficProvider[] {
    return [...this.byName.values()];
  }

  observe(t: TrafficTarget): TrafficObservation {
    const p = this.byName.get(t.ref.provider);
    if (!p) return { route: { ok: false, reason: Reason.ProviderUnavailable, message: this.why(t.ref) } };
    const seen = p.observe(t);
    const conflicts = this.conflicts(p, t);
    const out: TrafficObservation = conflicts.length ? { ...seen, conflicts } : { ...seen };
    const [host] = p.hostsOf(t);
    if (!host || !this.objects) return out;
    const dataplane = dataplaneOf(this.objects.namespace(t.namespace), this.objects.service(t.namespace, host));
    out.dataplane = dataplane;
    // Ambient without a waypoint: weights route nothing and no L7 metric exists. Nothing moves until one is added.
    if (dataplane.mode === 'ambient' && !dataplane.waypoint) {
      const view = seen.route.ok ? seen.route.view : seen.route.view;
      out.route = { ok: false, reason: Reason.WaypointMissing, message: waypointMissing(t.namespace, host), view };
    }
    return out;
  }

  async setCanaryPercent(t: TrafficTarget, percent: number): Promise<'written' | 'unchanged'> {
    const p = this.byName.get(t.ref.provider);
    if (!p) throw new Error(this.why(t.ref));
    return p.setCanaryPercent(t, percent);
  }

  /** "Kind/name" of the objects a route refers to; empty for a provider that is not running. */
  references(ref: RouteRef, stable: string, canary: string): string[] {
    return this.byName.get(ref.provider)?.references(ref, stable, canary) ?? [];
  }

  private conflicts(p: TrafficProvider, t: TrafficTarget): string[] {
    const out: string[] = [];
    for (const host of p.hostsOf(t)) {
      for (const other of this.byName.values()) if (other !== p) out.push(...other.routesFor(t.namespace, host));
    }
    return [...new Set(out)];
  }

  private why(ref: RouteRef): string {
    return `${ref.kind} ${ref.name}: ${this.unavailable.get(ref.provider) ?? `no traffic provider "${ref.provider}" in this operator`}`;
  }
}
