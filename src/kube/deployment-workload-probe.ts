// Is a version's workload ready for traffic? A Deployment whose pod template
// carries the Service's selector plus the version's labels (an Istio subset's) must have available
// replicas: sending traffic earlier causes the 503s users of other tools hit.
import type { KubernetesObject, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { WorkloadProbe, WorkloadRef } from '../controller/ports.js';
import type { Watched } from './watched.js';

type Deployment = V1Deployment & KubernetesObject;

export class DeploymentWorkloadProbe implements WorkloadProbe {
  /**
   * The Deployments that match a selector, per namespace list (the cache hands out the same list until the
   * namespace changes): every reconcile checks two workloads, and a namespace may hold hundreds of Deployments.
   */
  private readonly matches = new WeakMap<ReadonlyArray<Deployment>, Map<string, Deployment[]>>();

  constructor(
    private readonly deployments: Watched<V1Deployment & KubernetesObject>,
    private readonly services: Watched<V1Service & KubernetesObject>,
  ) {}

  check(namespace: string, workload: WorkloadRef): { available: boolean; message: string } {
    const service = workload.service;
    const svc = this.services.get(service, namespace);
    if (!svc) return { available: false, message: `Service ${namespace}/${service} not found, so its pods cannot be identified` };
    const selector = { ...(svc.spec?.selector ?? {}), ...workload.labels };
    const wanted = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
    const matching = this.matching(namespace, selector, wanted);
    if (matching.length === 0) return { available: false, message: `no Deployment in ${namespace} has pod labels ${wanted}` };
    const ready = matching.filter((d) => (d.status?.availableReplicas ?? 0) > 0);
    const names = matching.map((d) => `${d.metadata?.name} ${d.status?.availableReplicas ?? 0}/${d.spec?.replicas ?? 1} available`).join(', ');
    return ready.length > 0
      ? { available: true, message: `Deployment ${names}` }
      : { available: false, message: `Deployment ${names} (pod labels ${wanted})` };
  }

  private matching(namespace: string, selector: Record<string, string>, wanted: string): Deployment[] {
    const all = this.deployments.list(namespace);
    let bySelector = this.matches.get(all);
    if (!bySelector) this.matches.set(all, (bySelector = new Map()));
    let found = bySelector.get(wanted);
    if (!found) {
      found = all.filter((d) => {
        const labels = d.spec?.template?.metadata?.labels ?? {};
        return Object.entries(selector).every(([k, v]) => labels[k] === v);
      });
      bySelector.set(wanted, found);
    }
    return found;
  }
}

/**
 * What the probe reads of a Deployment, and all the Deployment cache keeps
 * (with the name and resourceVersion an informer needs; no uid, which nothing
 * reads): the pod labels, replicas and available replicas. Pod templates are
 * most of a Deployment's size.
 */
export function cachedDeployment(d: V1Deployment & KubernetesObject): V1Deployment & KubernetesObject {
  const m = d.metadata;
  return {
    apiVersion: d.apiVersion,
    kind: d.kind,
    metadata: { name: m?.name, namespace: m?.namespace, resourceVersion: m?.resourceVersion },
    spec: { replicas: d.spec?.replicas, selector: d.spec?.selector ?? {}, template: { metadata: { labels: d.spec?.template?.metadata?.labels ?? {} } } },
    status: { availableReplicas: d.status?.availableReplicas },
  };
}
