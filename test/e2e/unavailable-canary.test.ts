// A canary that stops being able to serve while it has traffic gets its
// traffic back to stable within spec.canaryUnavailableTimeout; the hold says
// so, and time spent holding never counts toward the step.
import { describe, expect, it } from '@jest/globals';
import { operatorForSuite } from './support/suite.js';
import { Cluster, ISTIO, condition, waitFor, waitForRelease } from './support/cluster.js';

const c = new Cluster();
const spec = (extra: Record<string, unknown> = {}) => ({
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' },
  canary: { subset: 'v2' },
  steps: [{ weight: 10, duration: '1h' }, { weight: 100 }],
  canaryUnavailableTimeout: '3s',
  ...extra,
});

operatorForSuite();

describe('a canary that loses its pods or its subset while it has traffic', () => {
  it('scaled to 0 during a step: traffic back to stable within the deadline, and the hold says so', async () => {
    const ns = await c.namespace('lost-pods');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec());
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    expect(await c.settled(ns, { v1: 90, v2: 10 })).toEqual({ v1: 90, v2: 10 });
    await c.setAvailable(ns, 'reviews-v2', false);
    const lostAt = Date.now();
    const holding = await waitForRelease(c, ns, 'holding', (r) => condition(r, 'CanaryAvailable')?.status === 'False');
    expect(holding.status?.message).toContain('10%');
    expect(holding.status?.message).toMatch(/back to v1 at \d{4}-\d\d-\d\dT/);
    const back = await waitFor('100% v1', async () => (await c.weights(ns)).v1 === 100 && Date.now(), 20_000, 100);
    process.stdout.write(`[figure] canary scaled to 0 at 10%: traffic back on stable after ${((back - lostAt) / 1000).toFixed(1)}s (canaryUnavailableTimeout 3s)\n`);
    expect(back - lostAt).toBeLessThan(10_000);
    const r = await waitForRelease(c, ns, 'RolledBack', (x) => x.status?.phase === 'RolledBack');
    expect(condition(r, 'Progressing')?.reason).toBe('CanaryUnavailable');
    expect(r.status?.message).toContain('retry');
  }, 60_000);

  it('its subset deleted from the DestinationRule: traffic back to stable within the deadline', async () => {
    const ns = await c.namespace('lost-subset');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec());
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    const dr = (await c.custom.getNamespacedCustomObject({ group: ISTIO, version: 'v1', namespace: ns, plural: 'destinationrules', name: 'reviews' })) as {
      spec: { subsets: { name: string }[] };
    };
    dr.spec.subsets = dr.spec.subsets.filter((s) => s.name !== 'v2');
    await c.custom.replaceNamespacedCustomObject({ group: ISTIO, version: 'v1', namespace: ns, plural: 'destinationrules', name: 'reviews', body: dr });
    const lostAt = Date.now();
    const holding = await waitForRelease(c, ns, 'holding', (r) => condition(r, 'TrafficRoutable')?.reason === 'SubsetNotFound');
    expect(holding.status?.message).not.toContain('No traffic was moved');
    expect(holding.status?.message).toContain('10%');
    const back = await waitFor('100% v1', async () => (await c.weights(ns)).v1 === 100 && Date.now(), 20_000, 100);
    expect(back - lostAt).toBeLessThan(10_000);
    await waitForRelease(c, ns, 'RolledBack', (x) => x.status?.phase === 'RolledBack');
  }, 60_000);

  it('time spent holding for an unavailable canary does not count toward the step', async () => {
    const ns = await c.namespace('hold-time');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ steps: [{ weight: 10, duration: '6s' }, { weight: 50, duration: '1h' }, { weight: 100 }], canaryUnavailableTimeout: '30s' }));
    const s1 = await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    const started = Date.parse(s1.status?.stepStartedAt ?? '');
    await new Promise((r) => setTimeout(r, 1000));
    await c.setAvailable(ns, 'reviews-v2', false);
    await waitForRelease(c, ns, 'holding', (r) => condition(r, 'CanaryAvailable')?.status === 'False');
    await new Promise((r) => setTimeout(r, 4000));
    await c.setAvailable(ns, 'reviews-v2', true);
    await waitForRelease(c, ns, 'step 2', (r) => r.status?.currentStep === 2, 30_000);
    const advanced = Date.now();
    // 6s of step plus about 4s of hold; without the shift the step would have ended at 6s.
    expect(advanced - started).toBeGreaterThanOrEqual(9000);
  }, 60_000);
});
