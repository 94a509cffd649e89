// Which workloads serve a (service, subset), and the identity Istio reports
// for them: the DestinationRule subset's labels plus the Service's selector
// pick Deployments by pod template labels, the way endpoints would.
// Pure functions over the watched objects.
import type { HttpRouteLike } from './http-route.js';
import { hostMatches, type KubeObjectLike, type VirtualServiceLike } from './routing.js';
import { UNKNOWN, type WorkloadIdentity } from './istio-metrics.js';

export interface DestinationRuleLike extends KubeObjectLike {
  spec?: unknown;
}
export interface ServiceLike extends KubeObjectLike {
  spec?: { selector?: Record<string, string> };
}
export interface DeploymentLike extends KubeObjectLike {
  spec?: {
    replicas?: number;
    template?: { metadata?: { labels?: Record<string, string> }; spec?: { serviceAccountName?: string } };
  };
  status?: { availableReplicas?: number };
}
export interface ConfigMapLike extends KubeObjectLike {
  data?: Record<string, string>;
}

/** What the simulator knows about one namespace. */
export interface NamespaceObjects {
  virtualServices: readonly VirtualServiceLike[];
  destinationRules: readonly DestinationRuleLike[];
  services: readonly ServiceLike[];
  deployments: readonly DeploymentLike[];
  configMaps: readonly ConfigMapLike[];
  /** gateway.networking.k8s.io HTTPRoutes; absent when they are not watched. */
  httpRoutes?: readonly HttpRouteLike[];
  /** The Namespace object itself (its labels choose the data plane); absent when not watched or not found. */
  namespace?: KubeObjectLike;
}

export interface Endpoint {
  deployment: DeploymentLike;
  identity: WorkloadIdentity;
  /** Fraction of the subset's traffic (by available replicas). */
  share: number;
  /** The key for behaviour lookups: the subset name, or the pod's version label without a subset. */
  behaviourKey: string | undefined;
}

export type EndpointResolution =
  | { ok: true; endpoints: Endpoint[] }
  /** The request fails in the client's sidecar: code and Envoy response flag. */
  | { ok: false; code: number; flags: string; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Labels of the named subset in a DestinationRule for the service; undefined if no rule defines it. */
export function subsetLabels(drs: readonly DestinationRuleLike[], service: string, namespace: string, subset: string): Record<string, string> | undefined {
  for (const dr of drs) {
    const spec = dr.spec;
    if (!isObject(spec) || !hostMatches(spec.host, service, namespace) || !Array.isArray(spec.subsets)) continue;
    for (const s of spec.subsets) {
      if (isObject(s) && s.name === subset) return isObject(s.labels) ? (s.labels as Record<string, string>) : {};
    }
  }
  return undefined;
}

const matchesLabels = (labels: Record<string, string>, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => labels[k] === v);

const templateLabels = (d: DeploymentLike) => d.spec?.template?.metadata?.labels ?? {};

// Deployments by each pod template label (`key=value`), built once per NamespaceObjects: a refresh of a
// thousand hosts' plans looks up each one's workloads in the same snapshot (one scan, not one per host).
const byLabel = new WeakMap<NamespaceObjects, Map<string, DeploymentLike[]>>();

/** The Deployments whose pod template carries every label in `want` (all of them when `want` is empty). */
function deploymentsWith(objs: NamespaceObjects, want: Record<string, string>): readonly DeploymentLike[] {
  const pairs = Object.entries(want);
  if (pairs.length === 0) return objs.deployments;
  let index = byLabel.get(objs);
  if (!index) {
    index = new Map();
    for (const d of objs.deployments) {
      for (const [k, v] of Object.entries(templateLabels(d))) {
        const key = `${k}=${v}`;
        const list = index.get(key);
        if (list) list.push(d);
        else index.set(key, [d]);
      }
    }
    byLabel.set(objs, index);
  }
  // Any one label narrows the candidates; the smallest list is checked against all of them.
  let candidates: readonly DeploymentLike[] | undefined;
  for (const [k, v] of pairs) {
    const list = index.get(`${k}=${v}`) ?? [];
    if (!candidates || list.length < candidates.length) candidates = list;
  }
  return (candidates ?? []).filter((d) => matchesLabels(templateLabels(d), want));
}

function available(d: DeploymentLike): number {
  const avail = d.status?.availableReplicas;
  // No controller-manager filled in status: trust spec.replicas.
  return avail ?? d.spec?.replicas ?? 1;
}

/** Istio's identity for a workload: canonical names from the well-known labels, principal from the service account. */
export function workloadIdentity(d: DeploymentLike, namespace: string, subset: Record<string, string> = {}): WorkloadIdentity {
  const labels = d.spec?.template?.metadata?.labels ?? {};
  const name = d.metadata?.name ?? UNKNOWN;
  const sa = d.spec?.template?.spec?.serviceAccountName || 'default';
  return {
    workload: name,
    namespace,
    principal: `spiffe://cluster.local/ns/${namespace}/sa/${sa}`,
    app: labels.app ?? labels['app.kubernetes.io/name'] ?? UNKNOWN,
    version: subset.version ?? labels.version ?? labels['app.kubernetes.io/version'] ?? UNKNOWN,
    canonicalService: labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? name,
    canonicalRevision: labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest',
  };
}

/**
 * The workloads behind `service` (in `namespace`), restricted to `subset` if
 * given. Pods are selected by the Service's selector (or app=<service> when
 * there is no Service object) plus the subset's labels. Failures mirror Envoy:
 * a subset no DestinationRule defines is 503 NC (no cluster), a subset with no
 * available workload 503 UH (no healthy upstream).
 */
export function resolveEndpoints(objs: NamespaceObjects, service: string, namespace: string, subset: string | undefined): EndpointResolution {
  let labels: Record<string, string> = {};
  if (subset !== undefined) {
    const found = subsetLabels(objs.destinationRules, service, namespace, subset);
    if (!found) return { ok: false, code: 503, flags: 'NC', reason: `no DestinationRule for ${service} defines subset ${subset}` };
    labels = found;
  }
  const svc = objs.services.find((s) => s.metadata?.name === service);
  const selector = svc ? (svc.spec?.selector ?? {}) : { app: service };
  const want = { ...selector, ...labels };
  const matching = deploymentsWith(objs, want)
    .filter((d) => available(d) > 0)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (matching.length === 0) {
    const what = subset !== undefined ? `subset ${subset} of ${service}` : service;
    return { ok: false, code: 503, flags: 'UH', reason: `no available Deployment serves ${what} (pods labelled ${JSON.stringify(want)})` };
  }
  const total = matching.reduce((s, d) => s + available(d), 0);
  return {
    ok: true,
    endpoints: matching.map((d) => {
      const identity = workloadIdentity(d, namespace, labels);
      return {
        deployment: d,
        identity,
        share: available(d) / total,
        behaviourKey: subset ?? (identity.version !== UNKNOWN ? identity.version : undefined),
      };
    }),
  };
}
