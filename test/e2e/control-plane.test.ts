// Proves the e2e control plane is what the operator will meet in a cluster:
// a real kube-apiserver 1.34 with our CRDs and Istio's, serving
// VirtualServices through every Istio API version.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  VersionApi,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { readCrdFiles } from '../harness/crds.js';
import { projectRoot } from '../harness/project-root.js';

const GROUP = 'networking.istio.io';
const VERSIONS = ['v1', 'v1beta1', 'v1alpha3'] as const;
const NAMESPACE = 'default';
const TIMEOUT_MS = 30_000;

interface Route {
  destination: { host: string; subset?: string };
  weight?: number;
}
interface VirtualService {
  apiVersion: string;
  kind: string;
  metadata: { name: string; generation?: number; resourceVersion?: string };
  spec: { hosts: string[]; http: { name?: string; route: Route[] }[] };
  status?: Record<string, unknown>;
}

function kubeConfig(): KubeConfig {
  const path = process.env.CANARY_E2E_KUBECONFIG;
  if (!path) throw new Error('CANARY_E2E_KUBECONFIG is not set: run through the e2e jest project (global-setup)');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

const kc = kubeConfig();
const crdApi = kc.makeApiClient(ApiextensionsV1Api);
const objects = kc.makeApiClient(CustomObjectsApi);

async function isEstablished(name: string): Promise<boolean> {
  const crd = await crdApi.readCustomResourceDefinition({ name });
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

const readVs = async (version: string, name: string) =>
  (await objects.getNamespacedCustomObject({ group: GROUP, version, namespace: NAMESPACE, plural: 'virtualservices', name })) as VirtualService;

const weights = (vs: VirtualService) => vs.spec.http[0]?.route.map((r) => r.weight);

describe('e2e control plane', () => {
  test('workers see the kubeconfig from global-setup', () => {
    expect(process.env.CANARY_E2E_KUBECONFIG).toBeTruthy();
    expect(process.env.KUBECONFIG).toBe(process.env.CANARY_E2E_KUBECONFIG);
  });

  test('is a kube-apiserver v1.34.x', async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.34\.\d+$/);
    expect(version.major).toBe('1');
    expect(version.minor).toBe('34');
  });

  test('the Istio CRDs are established', async () => {
    for (const plural of ['virtualservices', 'destinationrules']) {
      expect(await isEstablished(`${plural}.${GROUP}`)).toBe(true);
    }
  });

  test('the CanaryRelease CRD is established', async () => {
    expect(await isEstablished('canaryreleases.canary-operator.dev')).toBe(true);
  });

  test('every CRD in crds/ is established', async () => {
    const dir = join(projectRoot(), 'crds');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f)) : [];
    for (const crd of await readCrdFiles(files)) {
      expect([crd.metadata?.name, await isEstablished(crd.metadata!.name!)]).toEqual([crd.metadata?.name, true]);
    }
  });

  describe.each(VERSIONS)('a VirtualService created through %s', (createVersion) => {
    test(
      'reads back through every version, and JSON-patches and status-patches through its own',
      async () => {
        const name = `roundtrip-${createVersion}-${Date.now().toString(36)}`;
        const body: VirtualService = {
          apiVersion: `${GROUP}/${createVersion}`,
          kind: 'VirtualService',
          metadata: { name },
          spec: {
            hosts: ['reviews'],
            http: [
              {
                name: 'primary',
                route: [
                  { destination: { host: 'reviews', subset: 'stable' }, weight: 100 },
                  { destination: { host: 'reviews', subset: 'canary' }, weight: 0 },
                ],
              },
            ],
          },
        };
        const created = (await objects.createNamespacedCustomObject({
          group: GROUP,
          version: createVersion,
          namespace: NAMESPACE,
          plural: 'virtualservices',
          body,
        })) as VirtualService;
        try {
          expect(created.apiVersion).toBe(`${GROUP}/${createVersion}`);
          for (const v of VERSIONS) {
            const got = await readVs(v, name);
            expect(got.apiVersion).toBe(`${GROUP}/${v}`);
            expect(got.spec).toEqual(body.spec);
          }

          // What the operator does: move weight, guarded by a `test` of the value it last saw.
          const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
          const patch = (ops: unknown[]) =>
            objects.patchNamespacedCustomObject(
              { group: GROUP, version: createVersion, namespace: NAMESPACE, plural: 'virtualservices', name, body: ops },
              jsonPatch,
            );
          await patch([
            { op: 'test', path: '/spec/http/0/route/1/weight', value: 0 },
            { op: 'replace', path: '/spec/http/0/route/0/weight', value: 90 },
            { op: 'replace', path: '/spec/http/0/route/1/weight', value: 10 },
          ]);
          for (const v of VERSIONS) {
            const got = await readVs(v, name);
            expect(weights(got)).toEqual([90, 10]);
            expect(got.metadata.generation).toBe(2);
          }
          // A stale `test` must reject the whole patch.
          const stale = await patch([
            { op: 'test', path: '/spec/http/0/route/1/weight', value: 0 },
            { op: 'replace', path: '/spec/http/0/route/1/weight', value: 50 },
          ]).then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(stale).toBeInstanceOf(ApiException);
          expect((stale as ApiException<unknown>).code).toBe(422);
          expect(weights(await readVs('v1', name))).toEqual([90, 10]);

          // The status subresource exists and keeps spec untouched.
          await objects.patchNamespacedCustomObjectStatus(
            {
              group: GROUP,
              version: createVersion,
              namespace: NAMESPACE,
              plural: 'virtualservices',
              name,
              body: { status: { observedGeneration: 2 } },
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          const afterStatus = await readVs('v1', name);
          expect(afterStatus.status).toMatchObject({ observedGeneration: 2 });
          expect(afterStatus.metadata.generation).toBe(2);
        } finally {
          await objects.deleteNamespacedCustomObject({
            group: GROUP,
            version: createVersion,
            namespace: NAMESPACE,
            plural: 'virtualservices',
            name,
          });
        }
      },
      TIMEOUT_MS,
    );
  });
});
