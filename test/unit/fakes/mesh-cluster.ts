// A fake of the cluster state the mesh simulator watches, for unit tests of
// its traffic engine and route status: bookinfo's reviews in one namespace,
// routed GAMMA-style (an HTTPRoute on Service reviews, one Service per
// version) or by a VirtualService, and helpers to read the metrics it records.
import type { IstioMetrics } from '../../../tools/mesh-simulator/istio-metrics.js';
import type { ClusterView } from '../../../tools/mesh-simulator/traffic.js';
import type { NamespaceObjects } from '../../../tools/mesh-simulator/workloads.js';

export const NS = 'prod';

export class FakeView implements ClusterView {
  private v = 0;
  private readonly listeners = new Set<() => void>();
  constructor(public objs: NamespaceObjects) {}
  version() {
    return this.v;
  }
  objects(ns: string) {
    return ns === NS ? this.objs : undefined;
  }
  set(patch: Partial<NamespaceObjects>) {
    this.objs = { ...this.objs, ...patch };
    this.v++;
    for (const l of this.listeners) l();
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function deployment(version: string, extra: { available?: number; annotations?: Record<string, string> } = {}) {
  return {
    metadata: { name: `reviews-${version}`, namespace: NS, labels: { app: 'reviews', version }, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'reviews', version } }, spec: { serviceAccountName: 'bookinfo-reviews' } } },
    status: { availableReplicas: extra.available ?? 1 },
  };
}

export function service(name: string, selector: Record<string, string>, labels?: Record<string, string>) {
  return { metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, spec: { selector } };
}

/** reviews plus one Service per version (reviews-v1 selecting app=reviews,version=v1, ...). */
export function gammaServices(versions = ['v1', 'v2', 'v3'], reviewsLabels?: Record<string, string>) {
  return [service('reviews', { app: 'reviews' }, reviewsLabels), ...versions.map((v) => service(`reviews-${v}`, { app: 'reviews', version: v }))];
}

/** An HTTPRoute on Service reviews, as the API server stores it (schema defaults applied). */
export function httpRoute(backends: { name: string; weight?: number }[], extra: { name?: string; generation?: number; created?: string; rules?: unknown[]; status?: unknown } = {}) {
  return {
    metadata: { name: extra.name ?? 'reviews', namespace: NS, generation: extra.generation ?? 1, resourceVersion: String(100 + (extra.generation ?? 1)), creationTimestamp: extra.created ?? '2024-01-01T00:00:00Z' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }],
      rules: extra.rules ?? [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: backends.map((b) => ({ group: '', kind: 'Service', name: b.name, port: 9080, ...(b.weight !== undefined ? { weight: b.weight } : {}) })),
        },
      ],
    },
    ...(extra.status !== undefined ? { status: extra.status } : {}),
  };
}

export function virtualService(primary: { subset: string; weight: number }[]) {
  return {
    metadata: { name: 'reviews', namespace: NS, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { hosts: ['reviews'], http: [{ name: 'primary', route: primary.map((p) => ({ destination: { host: 'reviews', subset: p.subset }, weight: p.weight })) }] },
  };
}

export const destinationRule = () => ({
  metadata: { name: 'reviews', namespace: NS },
  spec: { host: 'reviews', subsets: ['v1', 'v2', 'v3'].map((v) => ({ name: v, labels: { version: v } })) },
});

/** bookinfo reviews routed 90/10 to reviews-v1/reviews-v2 by an HTTPRoute. */
export function gammaBookinfo(opts: { namespaceLabels?: Record<string, string>; reviewsLabels?: Record<string, string> } = {}): FakeView {
  return new FakeView({
    virtualServices: [],
    destinationRules: [],
    httpRoutes: [httpRoute([{ name: 'reviews-v1', weight: 90 }, { name: 'reviews-v2', weight: 10 }])],
    services: gammaServices(['v1', 'v2', 'v3'], opts.reviewsLabels),
    deployments: [deployment('v1'), deployment('v2'), deployment('v3')],
    configMaps: [],
    namespace: { metadata: { name: NS, ...(opts.namespaceLabels ? { labels: opts.namespaceLabels } : {}) } },
  });
}

/** Sums a counter over the series matching `where`, grouped by `by`. */
export async function sumBy(counter: IstioMetrics['requests'] | IstioMetrics['tcpConnectionsOpened'], where: Record<string, string>, by: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of (await counter.get()).values) {
    const labels = s.labels as Record<string, string>;
    if (Object.entries(where).some(([k, v]) => labels[k] !== v)) continue;
    const key = labels[by] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}
