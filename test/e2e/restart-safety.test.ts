// The operator can be SIGKILLed at any moment: a restarted one continues the
// same step with the remaining time, never moves a weight backwards, never
// skips a step, and writes each transition once.
import { describe, expect, it } from '@jest/globals';
import { startOperator } from './support/operator-process.js';
import { Cluster, stepsTold, waitFor, waitForRelease } from './support/cluster.js';

const c = new Cluster();
const spec = {
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' },
  canary: { subset: 'v2' },
  steps: [{ weight: 10, duration: '6s' }, { weight: 50, duration: '6s' }, { weight: 100 }],
};

describe('restart safety', () => {
  it('continues the same step with the remaining time after SIGKILL', async () => {
    const ns = await c.namespace('sigkill');
    await c.bookinfo(ns);
    const vsGen0 = (await c.virtualService(ns)).metadata as { generation?: number };
    let op = startOperator();
    await op.ready();
    await c.createRelease(ns, spec);
    const atStep1 = await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    const stepStartedAt = atStep1.status?.stepStartedAt;
    await new Promise((r) => setTimeout(r, 2000));
    await op.kill('SIGKILL');
    const killedAt = Date.now();

    // Record every weight the route goes through while a new operator takes over.
    const seen: number[] = [(await c.weights(ns)).v2 ?? 0];
    op = startOperator();
    await op.ready();
    const afterRestart = await c.release(ns);
    expect(afterRestart?.status?.currentStep).toBe(1);
    expect(afterRestart?.status?.stepStartedAt).toBe(stepStartedAt);

    const step2 = await waitFor('step 2', async () => {
      const w = (await c.weights(ns)).v2 ?? 0;
      if (seen.at(-1) !== w) seen.push(w);
      const r = await c.release(ns);
      return r?.status?.currentStep === 2 ? r : undefined;
    }, 20_000, 100);
    // Step 1 kept its original start: it ended 6s after stepStartedAt, not 6s after the restart.
    const step1Ended = Date.parse(step2.status?.stepStartedAt ?? '');
    expect(step1Ended - Date.parse(stepStartedAt ?? '')).toBeGreaterThanOrEqual(6000);
    expect(step1Ended - killedAt).toBeLessThan(6000);

    await waitFor('Succeeded', async () => {
      const w = (await c.weights(ns)).v2 ?? 0;
      if (seen.at(-1) !== w) seen.push(w);
      return (await c.release(ns))?.status?.phase === 'Succeeded';
    }, 20_000, 100);
    const last = (await c.settled(ns, { v1: 0, v2: 100 })).v2 ?? 0;
    if (seen.at(-1) !== last) seen.push(last);
    expect(seen).toEqual([10, 50, 100]);
    // One VirtualService write per transition (10, 50, 100), kill or not.
    const vsGen1 = (await c.virtualService(ns)).metadata as { generation?: number };
    expect((vsGen1.generation ?? 0) - (vsGen0.generation ?? 0)).toBe(3);
    expect(stepsTold(await c.eventsWith(ns, ['Promoted'])).sort()).toEqual(['1', '2']);
    expect(await op.kill('SIGTERM')).toBe(0);
  }, 60_000);

  it('shuts down cleanly on SIGTERM with exit code 0', async () => {
    const op = startOperator();
    await op.ready();
    const code = await op.kill('SIGTERM');
    expect(code).toBe(0);
    expect(op.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  }, 30_000);
});
