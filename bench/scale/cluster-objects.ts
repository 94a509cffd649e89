// Creating the benchmark's objects with the admin's identity (not audited as
// the operator's): first every release's Service, Deployments (available),
// DestinationRule and VirtualService, later the CanaryReleases, all at once.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import {
  AVAILABLE_STATUS, canaryReleaseBody, deploymentBody, destinationRuleBody, serviceBody, virtualServiceBody, type ReleaseFixture,
} from './fixtures.js';
import { forEachLimited, retrying } from './pool.js';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const CONCURRENCY = 24;

export async function createWorkloads(kc: KubeConfig, fixtures: readonly ReleaseFixture[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const name of new Set(fixtures.map((f) => f.namespace))) {
    await retrying(`namespace ${name}`, () => core.createNamespace({ body: { metadata: { name } } }));
  }
  await forEachLimited(fixtures, CONCURRENCY, async (f) => {
    const ns = f.namespace;
    await retrying(`Service ${ns}/${f.name}`, () => core.createNamespacedService({ namespace: ns, body: serviceBody(f) }));
    for (const v of ['v1', 'v2'] as const) {
      const name = `${f.name}-${v}`;
      await retrying(`Deployment ${ns}/${name}`, () => apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody(f, v) }));
      await retrying(`Deployment ${ns}/${name} status`, () => apps.patchNamespacedDeploymentStatus({ namespace: ns, name, body: AVAILABLE_STATUS }, merge));
    }
    const istio = { group: 'networking.istio.io', version: 'v1', namespace: ns };
    await retrying(`DestinationRule ${ns}/${f.name}`, () => custom.createNamespacedCustomObject({ ...istio, plural: 'destinationrules', body: destinationRuleBody(f) }));
    await retrying(`VirtualService ${ns}/${f.name}`, () => custom.createNamespacedCustomObject({ ...istio, plural: 'virtualservices', body: virtualServiceBody(f) }));
  });
}

export async function createReleases(kc: KubeConfig, fixtures: readonly ReleaseFixture[], failureLimit: number): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  await forEachLimited(fixtures, 64, (f) =>
    retrying(`CanaryRelease ${f.namespace}/${f.name}`, () =>
      custom.createNamespacedCustomObject({ group: 'canary-operator.dev', version: 'v1alpha1', namespace: f.namespace, plural: 'canaryreleases', body: canaryReleaseBody(f, failureLimit) }),
    ).then(() => undefined),
  );
}
