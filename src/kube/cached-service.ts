// What the Service cache keeps of each Service: its name and version, its labels
// (Istio's data plane labels, dataplane.ts) and its selector (the workload
// probe finds the pods behind it). client-node's typed Service, with ports,
// cluster IPs and status, is about ten times that; a mesh has a Service per
// host, and the operator watches all of them.
import type { KubernetesObject, V1Service } from '@kubernetes/client-node';

export function cachedService(s: V1Service & KubernetesObject): V1Service & KubernetesObject {
  const m = s.metadata;
  return {
    apiVersion: s.apiVersion,
    kind: s.kind,
    metadata: { name: m?.name, namespace: m?.namespace, resourceVersion: m?.resourceVersion, ...(m?.labels ? { labels: m.labels } : {}) },
    spec: s.spec?.selector ? { selector: s.spec.selector } : {},
  };
}
