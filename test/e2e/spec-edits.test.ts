// Editing a running release: an edited plan is re-mapped onto the weight the
// route has now (never lower, never a promotion without evidence); a changed
// target is a new release, and the old route gets its traffic back first.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster, ISTIO, bookinfoVirtualServiceSpec, waitFor, waitForRelease } from './support/cluster.js';
import { behave, startMeshAndOperator } from './support/mesh.js';

const c = new Cluster();
let stack: Awaited<ReturnType<typeof startMeshAndOperator>> | undefined;
let gated: string;

const base = (extra: Record<string, unknown> = {}) => ({
  service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' }, canary: { subset: 'v2' }, ...extra,
});

beforeAll(async () => {
  gated = await c.namespace('edit-gated');
  await c.bookinfo(gated);
  stack = await startMeshAndOperator([{ namespace: gated }]);
}, 90_000);

afterAll(async () => {
  expect(await stack?.stop()).toBe(0);
});

describe('an edited plan', () => {
  it('cut below the current step while gates fail does not promote', async () => {
    await c.createRelease(gated, base({
      steps: [{ weight: 10, duration: '1s' }, { weight: 20, duration: '1s' }, { weight: 30, duration: '1h' }, { weight: 100 }],
      analysis: { interval: '1s', window: '2s', minRequests: 1, failureLimit: 100, gates: [{ name: 'errors', errorRate: { max: '5%' } }] },
    }));
    await waitForRelease(c, gated, 'step 3', (r) => r.status?.currentStep === 3, 60_000);
    await behave(c, gated, 'v2', { errorRate: 0.5 });
    await waitForRelease(c, gated, 'failing', (r) => (r.status?.analysis as { verdict?: string } | undefined)?.verdict === 'Fail', 30_000);
    await c.patchRelease(gated, { spec: { steps: [{ weight: 10, duration: '1s' }, { weight: 100 }] } });
    await new Promise((r) => setTimeout(r, 6000));
    const r = await c.release(gated);
    expect(r?.status?.phase).toBe('Progressing');
    expect(r?.status?.canaryWeight).toBe(30);
    expect(await c.settled(gated, { v1: 70, v2: 30 })).toEqual({ v1: 70, v2: 30 });
  }, 90_000);

  it('with a lower weight at the current position never moves traffic down', async () => {
    const ns = await c.namespace('edit-lower');
    await c.bookinfo(ns);
    await c.createRelease(ns, base({ steps: [{ weight: 10, duration: '1s' }, { weight: 50, duration: '1h' }, { weight: 100 }] }));
    await waitForRelease(c, ns, 'step 2', (r) => r.status?.currentStep === 2);
    await c.patchRelease(ns, { spec: { steps: [{ weight: 5, duration: '1s' }, { weight: 10, duration: '1s' }, { weight: 20, duration: '1s' }, { weight: 100 }] } });
    const seen = new Set<number>();
    await waitFor('Succeeded', async () => {
      seen.add((await c.weights(ns)).v2 ?? 0);
      return (await c.release(ns))?.status?.phase === 'Succeeded';
    }, 30_000, 100);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(50);
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
  }, 60_000);
});

describe('a changed target', () => {
  it('returns the old route to stable first and starts a new release on the new one; deletion restores only the new one', async () => {
    const ns = await c.namespace('edit-target');
    await c.bookinfo(ns);
    await c.custom.createNamespacedCustomObject({
      group: ISTIO, version: 'v1', namespace: ns, plural: 'virtualservices',
      body: { apiVersion: `${ISTIO}/v1`, kind: 'VirtualService', metadata: { name: 'reviews-b' }, spec: bookinfoVirtualServiceSpec() },
    });
    await c.createRelease(ns, base({ steps: [{ weight: 10, duration: '1h' }, { weight: 100 }] }));
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    expect(await c.settled(ns, { v1: 90, v2: 10 })).toEqual({ v1: 90, v2: 10 });
    await c.patchRelease(ns, { spec: { virtualService: { name: 'reviews-b' } } });
    await waitFor('old route back on stable', async () => (await c.weights(ns)).v1 === 100);
    const weightsB = async () => {
      const vs = (await c.custom.getNamespacedCustomObject({ group: ISTIO, version: 'v1', namespace: ns, plural: 'virtualservices', name: 'reviews-b' })) as {
        spec: { http: { route: { destination: { subset: string }; weight?: number }[] }[] };
      };
      const route = vs.spec.http[1]?.route ?? [];
      return Object.fromEntries(route.map((d) => [d.destination.subset, d.weight ?? (route.length === 1 ? 100 : 0)]));
    };
    await waitFor('new route at step 1', async () => (await weightsB()).v2 === 10);
    expect(await c.settled(ns, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });
    const events = await c.eventsWith(ns, ['Superseded']);
    expect(events.find((e) => e.reason === 'Superseded')?.message).toContain('reviews-b');
    await c.deleteRelease(ns);
    await waitFor('deleted', async () => (await c.release(ns)) === undefined);
    expect(await weightsB()).toEqual({ v1: 100, v2: 0 });
    expect(await c.settled(ns, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });
  }, 60_000);
});
