// The HTTPRoute status the simulator writes as Istio's controller would:
// what status.parents says (desiredParents) and when it is written
// (RouteStatusWriter, against a fake status endpoint).
import { describe, expect, test } from '@jest/globals';
import { ApiException, type CustomObjectsApi } from '@kubernetes/client-node';
import { desiredParents, ISTIO_CONTROLLER_NAME } from '../../tools/mesh-simulator/route-status.js';
import { RouteStatusWriter } from '../../tools/mesh-simulator/route-status-writer.js';
import { gammaBookinfo, httpRoute, NS } from './fakes/mesh-cluster.js';

const NOW = new Date('2025-03-01T12:00:00.123Z');
const LATER = new Date('2025-03-01T12:05:00Z');
const PARENT = { group: '', kind: 'Service', name: 'reviews', port: 9080 };
const existing = new Set(['reviews', 'reviews-v1', 'reviews-v2']);
const inputs = (now = NOW) => ({ serves: (s: string) => s === 'reviews', serviceExists: (s: string) => existing.has(s), now });
const ours = (parents: Record<string, unknown>[]) => parents.filter((p) => p.controllerName === ISTIO_CONTROLLER_NAME);

describe('desiredParents', () => {
  test('accepts the route for its Service parent with resolved refs, for its generation', () => {
    const route = httpRoute([{ name: 'reviews-v1', weight: 90 }, { name: 'reviews-v2', weight: 10 }], { generation: 3 });
    expect(desiredParents(route, inputs())).toEqual([
      {
        parentRef: PARENT,
        controllerName: 'istio.io/gateway-controller',
        conditions: [
          { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Route was valid', observedGeneration: 3, lastTransitionTime: '2025-03-01T12:00:00Z' },
          { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references resolved', observedGeneration: 3, lastTransitionTime: '2025-03-01T12:00:00Z' },
        ],
      },
    ]);
  });

  test('says ResolvedRefs=False BackendNotFound when a backend Service does not exist', () => {
    const route = httpRoute([{ name: 'reviews-v1', weight: 90 }, { name: 'reviews-v3', weight: 10 }]);
    const [entry] = desiredParents(route, inputs()) as { conditions: { type: string; status: string; reason: string; message: string }[] }[];
    expect(entry!.conditions[0]).toMatchObject({ type: 'Accepted', status: 'True' });
    expect(entry!.conditions[1]).toMatchObject({ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: `backend Service ${NS}/reviews-v3 not found` });
  });

  test('moves observedGeneration with the route, lastTransitionTime only when a status changes', () => {
    const first = desiredParents(httpRoute([{ name: 'reviews-v1' }], { generation: 1 }), inputs());
    const second = desiredParents(httpRoute([{ name: 'reviews-v1' }, { name: 'reviews-v3' }], { generation: 2, status: { parents: first } }), inputs(LATER));
    const conds = (p: Record<string, unknown>[]) => (p[0]!.conditions as { type: string; status: string; observedGeneration: number; lastTransitionTime: string }[]).map((c) => [c.type, c.status, c.observedGeneration, c.lastTransitionTime]);
    expect(conds(second)).toEqual([
      ['Accepted', 'True', 2, '2025-03-01T12:00:00Z'],
      ['ResolvedRefs', 'False', 2, '2025-03-01T12:05:00Z'],
    ]);
  });

  test('keeps other controllers\' entries in place and drops its own for parents it no longer serves', () => {
    const other = { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingress' }, controllerName: 'example.com/gateway', conditions: [] };
    const route = httpRoute([{ name: 'reviews-v1' }], { status: { parents: [other] } });
    expect(desiredParents(route, inputs()).map((p) => p.controllerName)).toEqual(['example.com/gateway', ISTIO_CONTROLLER_NAME]);
    const served = { ...route, status: { parents: desiredParents(route, inputs()) } };
    expect(desiredParents(served, { ...inputs(), serves: () => false })).toEqual([other]);
  });
});

interface Patch {
  name: string;
  body: { metadata: { resourceVersion: string }; status: { parents: Record<string, unknown>[] } };
}

/** The status endpoint: records patches, optionally failing the first ones. */
function fakeStatusApi(fail: unknown[] = []): { api: CustomObjectsApi; patches: Patch[] } {
  const patches: Patch[] = [];
  const api = {
    patchNamespacedCustomObjectStatus: async (req: Patch & { group: string; version: string; plural: string; namespace: string }) => {
      expect([req.group, req.version, req.plural, req.namespace]).toEqual(['gateway.networking.k8s.io', 'v1', 'httproutes', NS]);
      const err = fail.shift();
      if (err) throw err;
      patches.push({ name: req.name, body: req.body });
      return {};
    },
  } as unknown as CustomObjectsApi;
  return { api, patches };
}

/** Lets the writer's pending pass (scheduled with setImmediate, against an API that answers at once) run. */
const settle = () => new Promise((r) => setTimeout(r, 20));

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`never happened: ${what}`);
}

describe('RouteStatusWriter', () => {
  test('writes the status after each spec change, once, guarded by the resourceVersion it read', async () => {
    const view = gammaBookinfo();
    const { api, patches } = fakeStatusApi();
    const writer = new RouteStatusWriter({ hosts: [{ namespace: NS, service: 'reviews', rps: 1 }], view, onChange: (l) => view.onChange(l), custom: api, log: () => {}, now: () => NOW });
    writer.start();
    await until('the first write', () => patches.length > 0);
    expect(patches.map((p) => [p.name, p.body.metadata.resourceVersion, ours(p.body.status.parents).length])).toEqual([['reviews', '101', 1]]);

    // The watch brings the written status back: nothing more to write.
    const written = httpRoute([{ name: 'reviews-v1', weight: 90 }, { name: 'reviews-v2', weight: 10 }], { status: { parents: patches[0]!.body.status.parents } });
    view.set({ httpRoutes: [{ ...written, metadata: { ...written.metadata, resourceVersion: '102' } }] });
    await settle();
    expect(patches).toHaveLength(1);

    // A new generation: written again, for generation 2.
    view.set({ httpRoutes: [httpRoute([{ name: 'reviews-v1', weight: 50 }, { name: 'reviews-v2', weight: 50 }], { generation: 2, status: { parents: patches[0]!.body.status.parents } })] });
    await settle();
    expect(patches).toHaveLength(2);
    expect((patches[1]!.body.status.parents[0]!.conditions as { observedGeneration: number }[]).map((c) => c.observedGeneration)).toEqual([2, 2]);
    await writer.stop();
    expect(writer.writes).toBe(2);
  });

  test('skips a route whose write has not come back yet, and retries after a failed write', async () => {
    const view = gammaBookinfo();
    const { api, patches } = fakeStatusApi([new ApiException(500, 'boom', 'etcd timeout', {})]);
    const writer = new RouteStatusWriter({ hosts: [{ namespace: NS, service: 'reviews', rps: 1 }], view, onChange: (l) => view.onChange(l), custom: api, log: () => {}, now: () => NOW, retryMs: 10 });
    writer.start();
    await until('the retried write', () => patches.length === 1);
    // An unrelated change while the cache still holds the version written from: no second write.
    view.set({ configMaps: [] });
    await settle();
    expect(patches).toHaveLength(1);
    await writer.stop();
  });

  test('leaves routes of Services it does not simulate alone', async () => {
    const view = gammaBookinfo();
    const { api, patches } = fakeStatusApi();
    const writer = new RouteStatusWriter({ hosts: [{ namespace: NS, service: 'ratings', rps: 1 }], view, onChange: (l) => view.onChange(l), custom: api, log: () => {}, now: () => NOW });
    writer.start();
    await settle();
    await writer.stop();
    expect(patches).toEqual([]);
  });
});
