// What the informers keep: objects listed and watched from a local HTTP
// server standing in for the API server land in the cache without
// managedFields, and Deployments with only what the workload probe reads.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import { pino } from 'pino';
import { DeploymentWorkloadProbe, cachedDeployment } from '../../../src/kube/deployment-workload-probe.js';
import { cachedService } from '../../../src/kube/cached-service.js';
import { dataplaneOf } from '../../../src/traffic/dataplane.js';
import { LAST_APPLIED, LIST_PAGE_SIZE, ResilientInformer, listAllPages, withoutManagedFields } from '../../../src/kube/resilient-informer.js';
import { setFlagsFromString } from 'node:v8';
import { Watched } from '../../../src/kube/watched.js';

const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
const deployment = (name: string, version: string, available: number, rv: string) => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv, labels: { app: 'reviews' }, annotations: { big: 'x'.repeat(1000) }, managedFields },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'reviews', version } },
    template: { metadata: { labels: { app: 'reviews', version } }, spec: { containers: [{ name: 'c', image: 'reviews', env: [{ name: 'SECRET_HINT', value: 'y'.repeat(1000) }] }] } },
  },
  status: { availableReplicas: available, replicas: 2, conditions: [{ type: 'Available', status: 'True' }] },
});
const service = { metadata: { name: 'reviews', namespace: 'ns', resourceVersion: '5', managedFields, annotations: { team: 'bookinfo', 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Service"}'.repeat(50) } }, spec: { selector: { app: 'reviews' }, ports: [{ port: 9080 }] } };

let server: Server;
let kc: KubeConfig;
const watches: ServerResponse[] = [];
/** The list requests of the paged paths, and the resourceVersion each watch of them started from. */
const pageRequests: { path: string; limit: string | null; cont: string | null }[] = [];
const pagedWatchFrom: string[] = [];
const PAGED = 1_234;
const pagedService = (i: number) => ({ metadata: { name: `svc-${i}`, namespace: 'paged', resourceVersion: String(100 + i), managedFields }, spec: { selector: { app: `svc-${i}` }, ports: [{ port: 80 }] } });
const pagedThing = (i: number) => ({ apiVersion: 'x.io/v1', kind: 'Thing', metadata: { name: `thing-${i}`, namespace: 'paged', resourceVersion: String(100 + i), managedFields } });
const deploymentWatches: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const paged = ['/api/v1/namespaces/paged/services', '/apis/x.io/v1/namespaces/paged/things'].includes(url.pathname);
    if (paged && url.searchParams.get('watch') === 'true') pagedWatchFrom.push(url.searchParams.get('resourceVersion') ?? '');
    else if (paged) {
      // A list served in pages as the API server does: the token says where the next page starts, every page
      // carries the snapshot's resourceVersion, the last has no token.
      const limit = url.searchParams.get('limit');
      const cont = url.searchParams.get('continue');
      pageRequests.push({ path: url.pathname, limit, cont });
      const from = cont ? Number(cont.replace('from-', '')) : 0;
      const to = Math.min(PAGED, from + Number(limit ?? PAGED));
      const services = url.pathname.endsWith('/services');
      const items = Array.from({ length: to - from }, (_, k) => (services ? pagedService(from + k) : pagedThing(from + k)));
      return json({
        kind: services ? 'ServiceList' : 'ThingList', apiVersion: services ? 'v1' : 'x.io/v1',
        metadata: { resourceVersion: '2000', ...(to < PAGED ? { continue: `from-${to}`, remainingItemCount: PAGED - to } : {}) }, items,
      });
    }
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      if (url.pathname.endsWith('/deployments')) res.write(`${JSON.stringify({ type: 'ADDED', object: deployment('reviews-v2', 'v2', 1, '11') })}\n`);
      watches.push(res); // stays open, like a real watch
      if (url.pathname.endsWith('/deployments')) deploymentWatches.push(res);
      return;
    }
    if (url.pathname === '/apis/apps/v1/namespaces/ns/deployments') return json({ kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: '10' }, items: [deployment('reviews-v1', 'v1', 2, '9')] });
    if (url.pathname === '/api/v1/namespaces/ns/services') return json({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [service] });
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c',
  });
});
afterAll(async () => {
  watches.forEach((w) => w.destroy());
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

type ListOf<T> = Promise<{ items: T[]; metadata: object; apiVersion: string; kind: string }>;
function informer<T extends KubernetesObject>(name: string, path: string, list: (page: { limit: number; _continue?: string }) => Promise<unknown>, transform?: (o: T) => T) {
  return new ResilientInformer<T>({
    kubeConfig: kc, name, path, log: pino({ level: 'silent' }), onChange: () => {}, transform,
    list: list as (page: { limit: number; _continue?: string }) => ListOf<T>,
  });
}

// V8's own answer to whether an object is in fast mode (shared hidden classes) or a dictionary.
setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('withoutManagedFields', () => {
  const parsed = () => JSON.parse(JSON.stringify({
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'ns', uid: 'u1', resourceVersion: '7', generation: 3, managedFields, annotations: { team: 'bookinfo', [LAST_APPLIED]: '{}' }, labels: { app: 'reviews' } },
    spec: { hosts: ['reviews'] },
  })) as KubernetesObject;

  it('keeps the cached metadata and annotations in V8\'s fast mode (a deleted property makes a dictionary of twice the size)', () => {
    const o = withoutManagedFields(parsed());
    expect(o.metadata).toEqual({ name: 'reviews', namespace: 'ns', uid: 'u1', resourceVersion: '7', generation: 3, annotations: { team: 'bookinfo' }, labels: { app: 'reviews' } });
    expect(hasFastProperties(o.metadata as object)).toBe(true);
    expect(hasFastProperties(o.metadata?.annotations as object)).toBe(true);
    // What the old code did, so the check above can tell the two apart.
    const deleted = parsed();
    delete deleted.metadata?.managedFields;
    expect(hasFastProperties(deleted.metadata as object)).toBe(false);
  });

  it('drops an annotations map left empty, and leaves an object with neither field as it was', () => {
    const only = JSON.parse(JSON.stringify({ metadata: { name: 'a', annotations: { [LAST_APPLIED]: '{}' } } })) as KubernetesObject;
    expect(withoutManagedFields(only).metadata).toEqual({ name: 'a' });
    const plain = { metadata: { name: 'b', annotations: { team: 'x' } } } as KubernetesObject;
    const md = plain.metadata;
    expect(withoutManagedFields(plain).metadata).toBe(md);
  });
});

describe('informer caches', () => {
  it('drop managedFields and kubectl\'s last-applied annotation of listed objects by default, and keep the other annotations', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const services = informer<V1Service & KubernetesObject>('services', '/api/v1/namespaces/ns/services', () => core.listNamespacedService({ namespace: 'ns' }));
    await services.start();
    const svc = services.get('reviews', 'ns');
    expect(svc?.spec?.selector).toEqual({ app: 'reviews' });
    expect(svc?.metadata?.managedFields).toBeUndefined();
    expect(svc?.metadata?.annotations).toEqual({ team: 'bookinfo' });
    await services.stop();
  });

  it('keep of Deployments, listed or watched, only what the workload probe reads, and the probe still answers', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const deployments = informer<V1Deployment & KubernetesObject>('deployments', '/apis/apps/v1/namespaces/ns/deployments',
      () => apps.listNamespacedDeployment({ namespace: 'ns' }), cachedDeployment);
    const services = informer<V1Service & KubernetesObject>('services', '/api/v1/namespaces/ns/services', () => core.listNamespacedService({ namespace: 'ns' }));
    await Promise.all([deployments.start(), services.start()]);
    await until('the watched Deployment', () => deployments.get('reviews-v2', 'ns') !== undefined);

    for (const name of ['reviews-v1', 'reviews-v2']) {
      const d = JSON.parse(JSON.stringify(deployments.get(name, 'ns'))) as Record<string, unknown>;
      const version = name.slice(-2);
      expect(d).toEqual({
        metadata: { name, namespace: 'ns', resourceVersion: name === 'reviews-v1' ? '9' : '11' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'reviews', version } }, template: { metadata: { labels: { app: 'reviews', version } } } },
        status: { availableReplicas: name === 'reviews-v1' ? 2 : 1 },
      });
    }
    const probe = new DeploymentWorkloadProbe(new Watched(['ns'], () => deployments), new Watched(['ns'], () => services));
    expect(probe.check('ns', { service: 'reviews', labels: { version: 'v2' }, identifiedBy: 'version' })).toEqual({ available: true, message: 'Deployment reviews-v2 1/2 available' });
    await Promise.all([deployments.stop(), services.stop()]);
  });
});

describe('lists', () => {
  it.each([
    ['typed (client-node names the token _continue)', '/api/v1/namespaces/paged/services', 'svc'],
    ['custom objects (plain JSON: continue)', '/apis/x.io/v1/namespaces/paged/things', 'thing'],
  ])(`of %s are read in pages of ${LIST_PAGE_SIZE}, each from the last page's token, and the watch starts at the snapshot's resourceVersion`, async (_what, path, prefix) => {
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    pageRequests.length = 0;
    pagedWatchFrom.length = 0;
    const inf = informer<KubernetesObject>(prefix, path, (page) => (prefix === 'svc'
      ? core.listNamespacedService({ namespace: 'paged', ...page })
      : custom.listNamespacedCustomObject({ group: 'x.io', version: 'v1', plural: 'things', namespace: 'paged', ...page })));
    await inf.start();
    try {
      expect(pageRequests).toEqual([
        { path, limit: String(LIST_PAGE_SIZE), cont: null },
        { path, limit: String(LIST_PAGE_SIZE), cont: `from-${LIST_PAGE_SIZE}` },
        { path, limit: String(LIST_PAGE_SIZE), cont: `from-${2 * LIST_PAGE_SIZE}` },
      ]);
      const names = inf.list('paged').map((o) => o.metadata?.name);
      expect(new Set(names).size).toBe(PAGED);
      expect(names).toContain(`${prefix}-0`);
      expect(names).toContain(`${prefix}-${PAGED - 1}`);
      // Each page went through the transform (the default drops managedFields).
      expect(inf.list('paged').every((o) => o.metadata?.managedFields === undefined)).toBe(true);
      await until('the watch', () => pagedWatchFrom.length > 0);
      expect(pagedWatchFrom).toEqual(['2000']);
    } finally {
      await inf.stop();
    }
  });

  it('fail when a page hands out a token already used, rather than read forever; the result has no token', async () => {
    const item = { metadata: { name: 'a' } };
    // A custom object list's plain JSON: the token is `continue`.
    const looping = async (page: { _continue?: string }) => ({ apiVersion: 'v1', kind: 'List', metadata: { continue: page._continue ? 't2' : 't1' }, items: [item] }) as KubernetesListObject<KubernetesObject>;
    await expect(listAllPages(looping, (o) => o)).rejects.toThrow('list returned continue token "t2" twice');
    const two = async (page: { _continue?: string }) => ({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '7', ...(page._continue ? {} : { _continue: 'next' }) }, items: [item] });
    const all = await listAllPages(two, (o) => o);
    // Each page is transformed before the next is asked for (what keeps a long list from being in memory whole).
    const transformedBeforePage: number[] = [];
    let transformed = 0;
    const three = async (page: { _continue?: string }) => {
      transformedBeforePage.push(transformed);
      const at = Number(page._continue ?? 0);
      return { apiVersion: 'v1', kind: 'List', metadata: at < 2 ? { _continue: String(at + 1) } : {}, items: [item, item] };
    };
    await listAllPages(three, (o) => (transformed++, o));
    expect(transformedBeforePage).toEqual([0, 2, 4]);
    expect(all.metadata).toEqual({ resourceVersion: '7' });
    expect(all.items).toHaveLength(2);
  });
});

describe('the Service cache', () => {
  it('keeps of each Service its name, resourceVersion, labels and selector only, and the probe and the data plane read what they need from it', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const services = informer<V1Service & KubernetesObject>('services', '/api/v1/namespaces/ns/services', (page) => core.listNamespacedService({ namespace: 'ns', ...page }), cachedService);
    const deployments = informer<V1Deployment & KubernetesObject>('deployments', '/apis/apps/v1/namespaces/ns/deployments',
      (page) => apps.listNamespacedDeployment({ namespace: 'ns', ...page }), cachedDeployment);
    await Promise.all([services.start(), deployments.start()]);
    try {
      expect(JSON.parse(JSON.stringify(services.get('reviews', 'ns')))).toEqual({
        metadata: { name: 'reviews', namespace: 'ns', resourceVersion: '5' }, spec: { selector: { app: 'reviews' } },
      });
      const probe = new DeploymentWorkloadProbe(new Watched(['ns'], () => deployments), new Watched(['ns'], () => services));
      expect(probe.check('ns', { service: 'reviews', labels: { version: 'v1' }, identifiedBy: 'version' })).toEqual({ available: true, message: 'Deployment reviews-v1 2/2 available' });
    } finally {
      await Promise.all([services.stop(), deployments.stop()]);
    }
    // Istio's data plane labels are kept.
    const ambient = cachedService({ metadata: { name: 's', namespace: 'n', labels: { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'wp' }, annotations: { a: 'b' } }, spec: { ports: [{ port: 80 }] } });
    expect(ambient).toEqual({ apiVersion: undefined, kind: undefined, metadata: { name: 's', namespace: 'n', uid: undefined, resourceVersion: undefined, labels: { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'wp' } }, spec: {} });
    expect(dataplaneOf(undefined, ambient)).toEqual({ mode: 'ambient', waypoint: 'wp' });
  });
});

describe('a namespace\'s list', () => {
  it('is the same array while nothing in the namespace changed, and a new one once something did, already new when onChange is told', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const toldWith: string[][] = [];
    const names = (l: ReadonlyArray<KubernetesObject>) => l.map((o) => o.metadata?.name ?? '').sort();
    const deployments: ResilientInformer<V1Deployment & KubernetesObject> = new ResilientInformer<V1Deployment & KubernetesObject>({
      kubeConfig: kc, name: 'deployments', path: '/apis/apps/v1/namespaces/ns/deployments', log: pino({ level: 'silent' }), transform: cachedDeployment,
      onChange: () => toldWith.push(names(deployments.list('ns'))),
      list: (() => apps.listNamespacedDeployment({ namespace: 'ns' })) as () => ListOf<V1Deployment & KubernetesObject>,
    });
    const services = informer<V1Service & KubernetesObject>('services', '/api/v1/namespaces/ns/services', () => core.listNamespacedService({ namespace: 'ns' }));
    await Promise.all([deployments.start(), services.start()]);
    try {
      await until('the watched Deployment', () => deployments.get('reviews-v2', 'ns') !== undefined);
      const probe = new DeploymentWorkloadProbe(new Watched(['ns'], () => deployments), new Watched(['ns'], () => services));
      const v3 = { service: 'reviews', labels: { version: 'v3' }, identifiedBy: 'version' as const };
      expect(probe.check('ns', v3).available).toBe(false);

      const before = deployments.list('ns');
      expect(deployments.list('ns')).toBe(before);
      expect(names(before)).toEqual(['reviews-v1', 'reviews-v2']);
      deploymentWatches.at(-1)?.write(`${JSON.stringify({ type: 'ADDED', object: deployment('reviews-v3', 'v3', 1, '12') })}\n`);
      await until('the added Deployment', () => deployments.get('reviews-v3', 'ns') !== undefined);
      const after = deployments.list('ns');
      expect(after).not.toBe(before);
      expect(names(after)).toEqual(['reviews-v1', 'reviews-v2', 'reviews-v3']);
      expect(names(deployments.list())).toEqual(['reviews-v1', 'reviews-v2', 'reviews-v3']);
      expect(toldWith.at(-1)).toEqual(['reviews-v1', 'reviews-v2', 'reviews-v3']);
      // What the probe derived from the old list is not used for the new one.
      expect(probe.check('ns', v3)).toEqual({ available: true, message: 'Deployment reviews-v3 1/2 available' });
    } finally {
      await Promise.all([deployments.stop(), services.stop()]);
    }
  });
});

describe('a periodic relist', () => {
  it('tells only what changed since the last list: nothing for unchanged objects, an update for a changed one; and lists the new cache after it', async () => {
    const told: string[] = [];
    const listedWhenTold: string[][] = [];
    let rv = '5';
    const core = kc.makeApiClient(CoreV1Api);
    const svc: ResilientInformer<V1Service & KubernetesObject> = new ResilientInformer<V1Service & KubernetesObject>({
      kubeConfig: kc, name: 'services', path: '/api/v1/namespaces/ns/services', log: pino({ level: 'silent' }), relistEveryMs: 150,
      onChange: (o, verb) => {
        told.push(`${verb}:${o.metadata?.name}@${o.metadata?.resourceVersion}`);
        // A handler that reads the namespace's list while the relist is told (before the new cache is swapped in).
        listedWhenTold.push(svc.list('ns').map((x) => x.metadata?.resourceVersion ?? ''));
      },
      list: async () => {
        const l = await core.listNamespacedService({ namespace: 'ns' });
        return { ...l, items: l.items.map((s) => ({ ...s, metadata: { ...s.metadata, resourceVersion: rv } })) };
      },
    });
    await svc.start();
    try {
      expect(told).toEqual(['add:reviews@5']);
      // Two relists (150 ms +-10%) of the same object: nothing to tell.
      await new Promise((r) => setTimeout(r, 400));
      expect(told).toEqual(['add:reviews@5']);
      rv = '6';
      await until('the changed object told once', () => told.length > 1);
      // Told before the swap, the handler saw the old cache; the list kept from then is not handed out after it
      // (read now: the next relist, at least 135 ms away, would make a new list anyway).
      expect(listedWhenTold.at(-1)).toEqual(['5']);
      expect(svc.list('ns').map((x) => x.metadata?.resourceVersion)).toEqual(['6']);
      await new Promise((r) => setTimeout(r, 200));
      expect(told).toEqual(['add:reviews@5', 'update:reviews@6']);
    } finally {
      await svc.stop();
    }
  });
});
