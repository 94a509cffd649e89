// Acting as a ServiceAccount: a kubeconfig with a TokenRequest token, the
// objects a chart renders applied as admin, and access reviews.
import { readFile, writeFile } from 'node:fs/promises';
import {
  ApiException, AuthorizationV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi,
  type KubernetesObject, type V1ResourceAttributes,
} from '@kubernetes/client-node';

/**
 * Writes a kubeconfig for ServiceAccount namespace/name: the admin
 * kubeconfig's server and CA, and a token from the TokenRequest API (what the
 * kubelet mounts into a pod). Returns the KubeConfig loaded from it.
 */
export async function writeServiceAccountKubeconfig(
  admin: KubeConfig, namespace: string, name: string, path: string, expirationSeconds = 3600,
): Promise<KubeConfig> {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no current cluster');
  const tr = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace, name, body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const caData = cluster.caData ?? (cluster.caFile ? (await readFile(cluster.caFile)).toString('base64') : undefined);
  const user = `system:serviceaccount:${namespace}:${name}`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: cluster.server, ...(caData ? { 'certificate-authority-data': caData } : {}), ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}) } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'e2e', user, namespace } }],
    'current-context': 'sa',
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Creates each object (as rendered: typed or plain), in order. */
export async function createObjects(kc: KubeConfig, objects: readonly KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects) {
    try {
      await api.create(o);
    } catch (err) {
      throw new Error(`creating ${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}: ${err instanceof ApiException ? String(err.body) : String(err)}`);
    }
  }
}

/** Deletes each object, ignoring those already gone. */
export async function deleteObjects(kc: KubeConfig, objects: readonly KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of [...objects].reverse()) {
    try {
      await api.delete(o);
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }
}

/** Whether the identity of `kc` may do this (SelfSubjectAccessReview). */
export async function can(kc: KubeConfig, attrs: V1ResourceAttributes): Promise<boolean> {
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attrs } },
  });
  return review.status?.allowed === true;
}

/**
 * Every resource permission the identity of `kc` has in `namespace`
 * (SelfSubjectRulesReview), as sorted "group/resource:verb" strings, with
 * "[name,...]" appended for rules limited to names. The self-review rights
 * every authenticated user has (system:basic-user) are left out.
 */
export async function resourceRights(kc: KubeConfig, namespace: string): Promise<string[]> {
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } },
  });
  if (review.status?.incomplete) throw new Error(`rules review incomplete: ${review.status.evaluationError}`);
  return expandRules(review.status?.resourceRules ?? []).filter(
    (r) => !/^authorization\.k8s\.io\/self|^authentication\.k8s\.io\/selfsubjectreviews/.test(r),
  );
}

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Rules as sorted, de-duplicated "group/resource:verb[names]" strings. */
export function expandRules(rules: readonly Rule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    const names = r.resourceNames?.length ? `[${[...r.resourceNames].sort().join(',')}]` : '';
    for (const g of r.apiGroups ?? ['']) for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g}/${res}:${v}${names}`);
  }
  return [...out].sort();
}
