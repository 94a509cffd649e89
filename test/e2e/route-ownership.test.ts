// One owner per route: two CanaryReleases naming the same VirtualService
// route never both write it. The one that started first owns it; the other
// holds at 0 with a condition and one Event naming the owner, and starts by
// itself when the owner ends.
import { describe, expect, it } from '@jest/globals';
import { operatorForSuite } from './support/suite.js';
import { Cluster, condition, waitFor, waitForRelease } from './support/cluster.js';

const c = new Cluster();
const spec = (canary: string, extra: Record<string, unknown> = {}) => ({
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' },
  canary: { subset: canary },
  steps: [{ weight: 10, duration: '3s' }, { weight: 50, duration: '3s' }, { weight: 100 }],
  ...extra,
});
const generation = async (ns: string) => ((await c.virtualService(ns)).metadata as { generation?: number }).generation ?? 0;

operatorForSuite();

describe('two releases on one route', () => {
  it('the later one holds at 0, names the owner once, writes nothing, and starts when the owner ends', async () => {
    const ns = await c.namespace('owner');
    await c.bookinfo(ns);
    const gen0 = await generation(ns);
    await c.createRelease(ns, spec('v2', { steps: [{ weight: 10, duration: '1h' }, { weight: 100 }] }), 'first');
    await waitForRelease(c, ns, 'first at step 1', (r) => r.status?.currentStep === 1, 30_000, 'first');
    await c.createRelease(ns, spec('v3'), 'second');

    const held = await waitForRelease(c, ns, 'second held', (r) => condition(r, 'TrafficRoutable')?.reason === 'RouteInUse', 30_000, 'second');
    expect(held.status).toMatchObject({ phase: 'Pending', canaryWeight: 0, currentStep: 0 });
    expect(condition(held, 'TrafficRoutable')?.status).toBe('False');
    expect(condition(held, 'TrafficRoutable')?.message).toContain(`CanaryRelease ${ns}/first`);
    expect(held.status?.message).toContain(`CanaryRelease ${ns}/first`);
    // Several seconds of both being reconciled: the route is written once (step 1 of the owner).
    await new Promise((r) => setTimeout(r, 5000));
    expect(await c.settled(ns, { v1: 90, v2: 10 })).toEqual({ v1: 90, v2: 10 });
    expect((await generation(ns)) - gen0).toBe(1);
    const secondEvents = await c.events(ns, 'second');
    expect(secondEvents.filter((e) => e.reason === 'RouteInUse')).toHaveLength(1);
    expect(secondEvents.filter((e) => e.reason === 'RouteInUse')[0]?.message).toContain(`CanaryRelease ${ns}/first`);
    expect([...secondEvents, ...(await c.events(ns, 'first'))].filter((e) => e.reason === 'TrafficDrift')).toEqual([]);

    // The owner ends (aborted: traffic back to v1); the waiting release starts by itself and walks to the end.
    await c.annotate(ns, 'canary-operator.dev/abort', 'stop-first', 'first');
    await waitForRelease(c, ns, 'first RolledBack', (r) => r.status?.phase === 'RolledBack', 30_000, 'first');
    const done = await waitForRelease(c, ns, 'second Succeeded', (r) => r.status?.phase === 'Succeeded', 40_000, 'second');
    expect(done.status).toMatchObject({ stableSubset: 'v1', canarySubset: 'v3', canaryWeight: 100 });
    expect(await c.settled(ns, { v1: 0, v2: 0, v3: 100 })).toEqual({ v1: 0, v2: 0, v3: 100 });
    const all = [...(await c.events(ns, 'second')), ...(await c.events(ns, 'first'))];
    expect(all.filter((e) => e.reason === 'TrafficDrift')).toEqual([]);
  }, 120_000);

  it('created at the same moment, exactly one moves traffic at a time and the weights never flap', async () => {
    const ns = await c.namespace('race');
    await c.bookinfo(ns);
    const gen0 = await generation(ns);
    await Promise.all([c.createRelease(ns, spec('v2'), 'a'), c.createRelease(ns, spec('v3'), 'b')]);
    const seen: string[] = [];
    // (Shorter than the owner's two 3s steps, so it is still mid-release when looked at.)
    const end = Date.now() + 4500;
    while (Date.now() < end) {
      const w = await c.weights(ns);
      expect((w.v2 ?? 0) > 0 && (w.v3 ?? 0) > 0).toBe(false);
      const text = JSON.stringify(w);
      if (seen.at(-1) !== text) seen.push(text);
      await new Promise((r) => setTimeout(r, 100));
    }
    const [a, b] = [await c.release(ns, 'a'), await c.release(ns, 'b')];
    const waiting = [a, b].filter((r) => condition(r!, 'TrafficRoutable')?.reason === 'RouteInUse');
    expect(waiting).toHaveLength(1);
    // Only the owner's transitions wrote the route: 10 then 50 within 6s (3s steps), nothing else.
    expect((await generation(ns)) - gen0).toBeLessThanOrEqual(3);
    expect(seen.length).toBeLessThanOrEqual(4);
    const events = [...(await c.events(ns, 'a')), ...(await c.events(ns, 'b'))];
    expect(events.filter((e) => e.reason === 'TrafficDrift')).toEqual([]);
    // The owner finishes; the other then starts, finds its stable subset without traffic (the owner's
    // canary has it all now) and holds, saying so, instead of moving users back to v1.
    const winner = await waitFor('one Succeeded', async () =>
      [await c.release(ns, 'a'), await c.release(ns, 'b')].find((r) => r?.status?.phase === 'Succeeded'), 30_000);
    const canary = winner.status?.canarySubset as string;
    await new Promise((r) => setTimeout(r, 3000));
    expect((await c.weights(ns))[canary]).toBe(100);
    expect((await c.weights(ns)).v1).toBe(0);
  }, 60_000);
});
