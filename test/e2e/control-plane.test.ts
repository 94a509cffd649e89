// Proves the e2e control plane is what the operator will meet in a cluster:
// a real kube-apiserver 1.34 with our CRDs, Istio's and the Gateway API's,
// serving VirtualServices through every Istio API version and GAMMA
// HTTPRoutes (a Service as parent) with the upstream schema's defaults.
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
const GATEWAY_API = 'gateway.networking.k8s.io';
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

interface HttpRoute {
  metadata: { name: string; generation?: number };
  spec: { parentRefs: unknown[]; rules: { matches?: unknown[]; backendRefs?: unknown[] }[] };
  status?: { parents?: unknown[] };
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

  test('the Gateway API standard-channel CRDs are established, HTTPRoute stored as v1', async () => {
    for (const plural of ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants', 'grpcroutes']) {
      expect([plural, await isEstablished(`${plural}.${GATEWAY_API}`)]).toEqual([plural, true]);
    }
    const crd = await crdApi.readCustomResourceDefinition({ name: `httproutes.${GATEWAY_API}` });
    expect(crd.spec.versions.find((v) => v.storage)?.name).toBe('v1');
    expect(crd.metadata?.annotations?.['gateway.networking.k8s.io/channel']).toBe('standard');
  });

  test(
    'an HTTPRoute with a Service parent and two weighted backends is created, defaulted and status-patched',
    async () => {
      const name = `gamma-${Date.now().toString(36)}`;
      const spec = {
        parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }],
        rules: [
          {
            backendRefs: [
              { name: 'reviews-v1', port: 9080, weight: 90 },
              { name: 'reviews-v2', port: 9080, weight: 10 },
            ],
          },
        ],
      };
      const route = { group: GATEWAY_API, version: 'v1', namespace: NAMESPACE, plural: 'httproutes' };
      const created = (await objects.createNamespacedCustomObject({
        ...route,
        body: { apiVersion: `${GATEWAY_API}/v1`, kind: 'HTTPRoute', metadata: { name }, spec },
      })) as HttpRoute;
      try {
        expect(created.metadata.generation).toBe(1);
        expect(created.spec.parentRefs).toEqual(spec.parentRefs);
        // The schema's defaults, which a reader of live HTTPRoutes must expect:
        // a rule without matches matches every path, a backend is a core Service.
        expect(created.spec.rules[0]!.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
        expect(created.spec.rules[0]!.backendRefs).toEqual([
          { group: '', kind: 'Service', name: 'reviews-v1', port: 9080, weight: 90 },
          { group: '', kind: 'Service', name: 'reviews-v2', port: 9080, weight: 10 },
        ]);

        // The upstream schema's CEL rules are enforced: a Service backend needs a port.
        const portless = await objects
          .createNamespacedCustomObject({
            ...route,
            body: { apiVersion: `${GATEWAY_API}/v1`, kind: 'HTTPRoute', metadata: { name: `${name}-bad` }, spec: { ...spec, rules: [{ backendRefs: [{ name: 'reviews-v1' }] }] } },
          })
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        expect(portless).toBeInstanceOf(ApiException);
        expect((portless as ApiException<unknown>).code).toBe(422);
        expect((portless as ApiException<unknown>).message).toContain('Must have port for Service reference');

        // What a mesh controller writes, through the status subresource.
        const parents = [
          {
            parentRef: spec.parentRefs[0],
            controllerName: 'istio.io/gateway-controller',
            conditions: [
              { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Route was valid', observedGeneration: 1, lastTransitionTime: '2025-01-01T00:00:00Z' },
              { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references resolved', observedGeneration: 1, lastTransitionTime: '2025-01-01T00:00:00Z' },
            ],
          },
        ];
        await objects.patchNamespacedCustomObjectStatus(
          { ...route, name, body: { status: { parents } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        const after = (await objects.getNamespacedCustomObject({ ...route, name })) as HttpRoute;
        expect(after.status?.parents).toEqual(parents);
        expect(after.metadata.generation).toBe(1);
      } finally {
        await objects.deleteNamespacedCustomObject({ ...route, name });
      }
    },
    TIMEOUT_MS,
  );

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
