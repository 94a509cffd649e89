// A release adopts what the route shows when it first sees it: already on the
// canary is Succeeded with nothing moved, all on stable starts, anything else
// holds and says what the route looks like. Before the first traffic move
// both workloads must be available.
import { describe, expect, it } from '@jest/globals';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { operatorForSuite } from './support/suite.js';
import { Cluster, GROUP, PLURAL, VERSION, bookinfoVirtualServiceSpec, condition, waitFor, waitForRelease } from './support/cluster.js';

const c = new Cluster();
const spec = (stable: string, canary: string, steps: unknown[] = [{ weight: 10, duration: '2s' }, { weight: 50, duration: '2s' }, { weight: 100 }]) => ({
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: stable },
  canary: { subset: canary },
  steps,
});
const generation = async (ns: string) => ((await c.virtualService(ns)).metadata as { generation?: number }).generation ?? 0;
/** bookinfo's routes with the default route's destinations replaced. */
const routesTo = (route: { subset: string; weight?: number }[]) => {
  const vs = bookinfoVirtualServiceSpec();
  (vs.http[1] as { route: unknown }).route = route.map((d) => ({ destination: { host: 'reviews', subset: d.subset }, ...(d.weight === undefined ? {} : { weight: d.weight }) }));
  return vs;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

operatorForSuite();

describe('adopting the route as it is', () => {
  it('a route already sending everything to the canary is Succeeded with nothing moved (bookinfo jason-v2-v3)', async () => {
    const ns = await c.namespace('adopt-done');
    await c.bookinfo(ns, { virtualService: routesTo([{ subset: 'v3' }]) });
    const gen0 = await generation(ns);
    await c.createRelease(ns, spec('v2', 'v3'));
    const r = await waitForRelease(c, ns, 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    expect(condition(r, 'Promoted')).toMatchObject({ status: 'True', reason: 'AlreadyPromoted' });
    expect(r.status?.message).toContain('already');
    await sleep(2000);
    expect(await generation(ns)).toBe(gen0);
    expect(await c.settled(ns, { v3: 100 })).toEqual({ v3: 100 });
  }, 60_000);

  it('a route between stable and canary that is not a step of the plan holds, says what it sees, and moves nothing', async () => {
    const ns = await c.namespace('adopt-between');
    await c.bookinfo(ns, { virtualService: routesTo([{ subset: 'v1', weight: 90 }, { subset: 'v2', weight: 10 }]) });
    const gen0 = await generation(ns);
    await c.createRelease(ns, spec('v1', 'v2', [{ weight: 5, duration: '2s' }, { weight: 50, duration: '2s' }, { weight: 100 }]));
    const r = await waitForRelease(c, ns, 'held', (x) => condition(x, 'Progressing')?.reason === 'RouteNotAtStart');
    expect(r.status).toMatchObject({ phase: 'Pending', currentStep: 0 });
    expect(r.status?.message).toMatch(/v1 90%.*v2 10%|v2 10%.*v1 90%/);
    expect(r.status?.message).toContain('spec.steps');
    await sleep(3000);
    expect(await generation(ns)).toBe(gen0);
    expect(await c.settled(ns, { v1: 90, v2: 10 })).toEqual({ v1: 90, v2: 10 });
    expect((await c.eventsWith(ns, ['RouteNotAtStart'])).filter((e) => e.reason === 'RouteNotAtStart')).toHaveLength(1);
  }, 60_000);

  it('a route at one of the plan\'s weights is adopted at that step without a write', async () => {
    const ns = await c.namespace('adopt-step');
    await c.bookinfo(ns, { virtualService: routesTo([{ subset: 'v1', weight: 50 }, { subset: 'v2', weight: 50 }]) });
    const gen0 = await generation(ns);
    await c.createRelease(ns, spec('v1', 'v2'));
    const r = await waitForRelease(c, ns, 'adopted at step 2', (x) => x.status?.currentStep === 2);
    expect(r.status).toMatchObject({ phase: 'Progressing', canaryWeight: 50 });
    expect(await generation(ns)).toBe(gen0);
    await waitForRelease(c, ns, 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
    expect((await generation(ns)) - gen0).toBe(1);
  }, 60_000);

  it('a finished release deleted and applied again (a GitOps re-create) does not pull traffic back to the old stable', async () => {
    const ns = await c.namespace('adopt-recreate');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec('v1', 'v2', [{ weight: 50, duration: '1s' }, { weight: 100 }]));
    await waitForRelease(c, ns, 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    await c.deleteRelease(ns);
    await waitFor('deleted', async () => (await c.release(ns)) === undefined);
    // The old stable workload is gone, as after a real rollout.
    await c.apps.deleteNamespacedDeployment({ namespace: ns, name: 'reviews-v1' });
    const gen0 = await generation(ns);
    await c.createRelease(ns, spec('v1', 'v2', [{ weight: 50, duration: '1s' }, { weight: 100 }]));
    const r = await waitForRelease(c, ns, 'Succeeded again', (x) => x.status?.phase === 'Succeeded');
    expect(condition(r, 'Promoted')?.reason).toBe('AlreadyPromoted');
    await sleep(2000);
    expect(await generation(ns)).toBe(gen0);
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
  }, 60_000);

  it('a finished release whose status is lost adopts the route instead of starting over', async () => {
    const ns = await c.namespace('adopt-lost');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec('v1', 'v2', [{ weight: 50, duration: '1s' }, { weight: 100 }]));
    await waitForRelease(c, ns, 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    const gen0 = await generation(ns);
    const custom = c.kc.makeApiClient(CustomObjectsApi);
    // The operator may still record that its final write landed: lose the status as it is at that moment.
    await waitFor('the status replaced by an empty one', async () => {
      const now = await c.release(ns);
      await custom.replaceNamespacedCustomObjectStatus({
        group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: 'reviews',
        body: { ...now, status: {} },
      });
      return true;
    });
    await waitForRelease(c, ns, 'Succeeded after the status was lost', (x) => x.status?.phase === 'Succeeded' && condition(x, 'Promoted')?.reason === 'AlreadyPromoted');
    await sleep(2000);
    expect(await generation(ns)).toBe(gen0);
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
  }, 60_000);

  it('waits for the stable workload too before the first traffic move', async () => {
    const ns = await c.namespace('adopt-stable');
    await c.bookinfo(ns, { unavailable: ['v1'] });
    const gen0 = await generation(ns);
    await c.createRelease(ns, spec('v1', 'v2'));
    const r = await waitForRelease(c, ns, 'waiting for stable', (x) => condition(x, 'Progressing')?.reason === 'WaitingForStable');
    expect(r.status).toMatchObject({ phase: 'Pending', currentStep: 0 });
    expect(r.status?.message).toContain('reviews-v1');
    await sleep(2000);
    expect(await generation(ns)).toBe(gen0);
    await c.setAvailable(ns, 'reviews-v1', true);
    await waitForRelease(c, ns, 'step 1 once stable is available', (x) => x.status?.currentStep === 1);
  }, 60_000);
});
