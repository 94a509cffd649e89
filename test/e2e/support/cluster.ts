// Talking to the e2e control plane from tests: clients, bookinfo-style
// fixtures, and polling helpers.
import { randomBytes } from 'node:crypto';
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions,
  type CoreV1Event, type V1Deployment,
} from '@kubernetes/client-node';

export const GROUP = 'canary-operator.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'canaryreleases';
export const ISTIO = 'networking.istio.io';

export interface Release {
  metadata: { name: string; namespace: string; finalizers?: string[]; annotations?: Record<string, string>; resourceVersion?: string; generation?: number };
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    message?: string;
    currentStep?: number;
    canaryWeight?: number;
    stepStartedAt?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    [k: string]: unknown;
  };
}

export function kubeconfigPath(): string {
  const p = process.env.CANARY_E2E_KUBECONFIG;
  if (!p) throw new Error('CANARY_E2E_KUBECONFIG is not set: run the e2e project through jest (its globalSetup starts the control plane)');
  return p;
}

export class Cluster {
  readonly kc = new KubeConfig();
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;

  constructor() {
    this.kc.loadFromFile(kubeconfigPath());
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
  }

  async namespace(prefix: string): Promise<string> {
    const name = `${prefix}-${randomBytes(3).toString('hex')}`;
    await this.core.createNamespace({ body: { metadata: { name } } });
    return name;
  }

  /**
   * The bookinfo reviews service: Service, Deployments v1..vN (available), DestinationRule, VirtualService.
   * `fieldManager` names the test as the writer of the DestinationRule and VirtualService (default: client-node's "node-fetch").
   */
  async bookinfo(ns: string, opts: { versions?: string[]; unavailable?: string[]; virtualService?: Record<string, unknown>; fieldManager?: string } = {}): Promise<void> {
    const versions = opts.versions ?? ['v1', 'v2', 'v3'];
    await this.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'reviews' }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] } },
    });
    for (const v of versions) {
      await this.deployment(ns, v, !(opts.unavailable ?? []).includes(v));
    }
    await this.custom.createNamespacedCustomObject({
      group: ISTIO, version: 'v1', namespace: ns, plural: 'destinationrules', fieldManager: opts.fieldManager,
      body: {
        apiVersion: `${ISTIO}/v1`, kind: 'DestinationRule', metadata: { name: 'reviews' },
        spec: { host: 'reviews', subsets: versions.map((v) => ({ name: v, labels: { version: v } })) },
      },
    });
    await this.custom.createNamespacedCustomObject({
      group: ISTIO, version: 'v1', namespace: ns, plural: 'virtualservices', fieldManager: opts.fieldManager,
      body: { apiVersion: `${ISTIO}/v1`, kind: 'VirtualService', metadata: { name: 'reviews' }, spec: opts.virtualService ?? bookinfoVirtualServiceSpec() },
    });
  }

  /**
   * bookinfo reviews the Gateway API (GAMMA) way: Service reviews (the parent), one Service and
   * one available Deployment per version, and an HTTPRoute on reviews with `rules` (default: one
   * rule sending everything to reviews-v1, its weight absent).
   */
  async gammaBookinfo(ns: string, opts: { rules?: unknown[]; namespaceLabels?: Record<string, string> } = {}): Promise<void> {
    if (opts.namespaceLabels) {
      await this.core.patchNamespace({ name: ns, body: { metadata: { labels: opts.namespaceLabels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }
    const ports = [{ name: 'http', port: 9080 }];
    await this.core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'reviews' }, spec: { selector: { app: 'reviews' }, ports } } });
    for (const v of ['v1', 'v2']) {
      await this.core.createNamespacedService({ namespace: ns, body: { metadata: { name: `reviews-${v}` }, spec: { selector: { app: 'reviews', version: v }, ports } } });
      await this.deployment(ns, v, true);
    }
    await this.custom.createNamespacedCustomObject({
      ...HTTP_ROUTES, namespace: ns,
      body: {
        apiVersion: `${HTTP_ROUTES.group}/${HTTP_ROUTES.version}`, kind: 'HTTPRoute', metadata: { name: 'reviews' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], rules: opts.rules ?? [{ backendRefs: [{ name: 'reviews-v1', port: 9080 }] }] },
      },
    });
  }

  async httpRoute(ns: string, name = 'reviews'): Promise<HttpRouteObject> {
    return (await this.custom.getNamespacedCustomObject({ ...HTTP_ROUTES, namespace: ns, name })) as HttpRouteObject;
  }

  /** Backend Service -> weight of an HTTPRoute rule (an absent weight is Gateway API's default, 1). */
  async backendWeights(ns: string, rule = -1): Promise<Record<string, number>> {
    const route = await this.httpRoute(ns);
    const r = route.spec.rules.at(rule);
    return Object.fromEntries((r?.backendRefs ?? []).map((b) => [b.name, b.weight ?? 1]));
  }

  /** A Deployment of reviews-<version>; no controller-manager runs, so the test writes its status. */
  async deployment(ns: string, version: string, available: boolean): Promise<void> {
    const labels = { app: 'reviews', version };
    await this.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: `reviews-${version}`, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'reviews', image: `docker.io/istio/examples-bookinfo-reviews-${version}:1.20.2` }] } },
        },
      },
    });
    await this.setAvailable(ns, `reviews-${version}`, available);
  }

  async setAvailable(ns: string, name: string, available: boolean): Promise<void> {
    const n = available ? 1 : 0;
    await this.apps.patchNamespacedDeploymentStatus(
      { namespace: ns, name, body: { status: { replicas: 1, readyReplicas: n, availableReplicas: n, updatedReplicas: 1, observedGeneration: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async createRelease(ns: string, spec: Record<string, unknown>, name = 'reviews', annotations?: Record<string, string>, fieldManager?: string): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, fieldManager,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'CanaryRelease', metadata: { name, annotations }, spec },
    });
  }

  async release(ns: string, name = 'reviews'): Promise<Release | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name })) as Release;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  async patchRelease(ns: string, body: Record<string, unknown>, name = 'reviews'): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async annotate(ns: string, key: string, value: string, name = 'reviews'): Promise<void> {
    await this.patchRelease(ns, { metadata: { annotations: { [key]: value } } }, name);
  }

  async deleteRelease(ns: string, name = 'reviews'): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name });
  }

  async virtualService(ns: string, version = 'v1', name = 'reviews'): Promise<{ metadata: { resourceVersion: string }; spec: VsSpec }> {
    return (await this.custom.getNamespacedCustomObject({ group: ISTIO, version, namespace: ns, plural: 'virtualservices', name })) as {
      metadata: { resourceVersion: string };
      spec: VsSpec;
    };
  }

  async patchVirtualService(ns: string, ops: unknown[], name = 'reviews'): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { group: ISTIO, version: 'v1', namespace: ns, plural: 'virtualservices', name, body: ops },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  }

  /** Weights by subset of the route at `index` (the default route is the last one in bookinfo). */
  async weights(ns: string, index = -1): Promise<Record<string, number>> {
    const vs = await this.virtualService(ns);
    const http = vs.spec.http;
    const route = http[index < 0 ? http.length + index : index]?.route ?? [];
    return Object.fromEntries(route.map((d) => [d.destination.subset ?? '', d.weight ?? (route.length === 1 ? 100 : 0)]));
  }

  /**
   * The route's weights once they equal `expected` (or what they are after 5s).
   * The operator writes the status a moment before the route (intent first),
   * so a test that saw the status must give the route that moment.
   */
  async settled(ns: string, expected: Record<string, number>, index = -1): Promise<Record<string, number>> {
    const want = JSON.stringify(Object.entries(expected).sort());
    let last: Record<string, number> = {};
    try {
      return await waitFor(`weights ${JSON.stringify(expected)}`, async () => {
        last = await this.weights(ns, index);
        return JSON.stringify(Object.entries(last).sort()) === want ? last : undefined;
      }, 5000, 50);
    } catch {
      return last;
    }
  }

  async events(ns: string, name = 'reviews'): Promise<CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` });
    return list.items;
  }

  /**
   * The release's Events once every named reason is among them. The operator
   * records Events after the status write, so a test that saw the status must
   * wait for them rather than read them at once.
   */
  async eventsWith(ns: string, reasons: string[], name = 'reviews'): Promise<CoreV1Event[]> {
    return waitFor(`Events ${reasons.join(', ')}`, async () => {
      const events = await this.events(ns, name);
      const seen = new Set(events.map((e) => e.reason));
      return reasons.every((r) => seen.has(r)) ? events : undefined;
    });
  }

  async deploymentOf(ns: string, name: string): Promise<V1Deployment> {
    return this.apps.readNamespacedDeployment({ namespace: ns, name });
  }
}

/**
 * The step numbers a release's Events told, in no particular order: each
 * StepAdvanced, and a Started or Retried that took its first step at once.
 */
export function stepsTold(events: readonly CoreV1Event[]): string[] {
  return events.filter((e) => ['StepAdvanced', 'Started', 'Retried'].includes(e.reason ?? ''))
    .map((e) => e.message?.match(/Step (\d+)\//)?.[1]).filter((s): s is string => s !== undefined);
}

export const HTTP_ROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };

export interface HttpRouteObject {
  metadata: { name: string; resourceVersion: string; generation: number; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { parentRefs: unknown[]; rules: { name?: string; matches?: unknown[]; filters?: unknown[]; backendRefs?: { name: string; port?: number; weight?: number }[] }[] };
  status?: { parents?: { parentRef: unknown; controllerName: string; conditions: { type: string; status: string; observedGeneration?: number }[] }[] };
}

export interface VsSpec {
  hosts: string[];
  http: { name?: string; match?: unknown; route: { destination: { host: string; subset?: string }; weight?: number }[]; [k: string]: unknown }[];
  [k: string]: unknown;
}

/** Bookinfo's reviews routing: jason sees v2, everyone else v1; plus retries, timeout and fault, which must survive. */
export function bookinfoVirtualServiceSpec(): VsSpec {
  return {
    hosts: ['reviews'],
    http: [
      {
        name: 'jason',
        match: [{ headers: { 'end-user': { exact: 'jason' } } }],
        route: [{ destination: { host: 'reviews', subset: 'v2' } }],
        retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure' },
      },
      {
        name: 'primary',
        route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 100 }],
        timeout: '10s',
        retries: { attempts: 2, perTryTimeout: '3s' },
        fault: { delay: { percentage: { value: 0.1 }, fixedDelay: '5s' } },
        headers: { request: { set: { 'x-canary-demo': 'true' } } },
      },
    ],
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the release's status satisfies `pred`; returns it. A timeout says the status it last saw. */
export async function waitForRelease(c: Cluster, ns: string, what: string, pred: (r: Release) => boolean, timeoutMs = 30_000, name = 'reviews'): Promise<Release> {
  let last: Release | undefined;
  try {
    return await waitFor(what, async () => {
      const r = await c.release(ns, name);
      last = r ?? last;
      return r && pred(r) ? r : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${ns}/${name} last read with status ${JSON.stringify(last?.status ?? null)}`);
  }
}

export const condition = (r: Release, type: string) => r.status?.conditions?.find((c) => c.type === type);
