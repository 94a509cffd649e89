// Two operator replicas with leader election: only the leader reconciles;
// when it is killed, the standby takes over within the lease duration, and no
// step of the release in flight is applied twice.
import { describe, expect, it } from '@jest/globals';
import { startOperator } from './support/operator-process.js';
import { Cluster, stepsTold, waitFor, waitForRelease } from './support/cluster.js';

const c = new Cluster();

describe('leader election', () => {
  it('hands over to the standby within the lease duration when the leader is killed mid-release', async () => {
    const ns = await c.namespace('leader');
    await c.bookinfo(ns);
    const env = { LEADER_ELECT: 'true', LEASE_NAMESPACE: ns, LEASE_DURATION_SECONDS: '4', POD_NAMESPACE: ns };
    const a = startOperator({ ...env, POD_NAME: 'replica-a' });
    await a.ready();
    const b = startOperator({ ...env, POD_NAME: 'replica-b' });
    await b.synced();
    await new Promise((r) => setTimeout(r, 2000));
    expect(a.leading()).toBe(true);
    expect(b.leading()).toBe(false);

    const vsGen0 = ((await c.virtualService(ns)).metadata as { generation?: number }).generation ?? 0;
    await c.createRelease(ns, {
      service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
      stable: { subset: 'v1' }, canary: { subset: 'v2' },
      steps: [{ weight: 10, duration: '3s' }, { weight: 30, duration: '3s' }, { weight: 60, duration: '3s' }, { weight: 100 }],
    });
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    // Its Events follow the status and route writes; a kill before them loses them (the status is what survives).
    await waitFor('the Event telling step 1', async () => stepsTold(await c.events(ns)).includes('1') || undefined);
    // Only the leader acts: the standby has logged no reconcile of it.
    expect(b.logs.some((l) => l.includes(`"release":"${ns}/reviews"`))).toBe(false);

    await a.kill('SIGKILL');
    const killedAt = Date.now();
    await b.ready();
    const tookOver = Date.now() - killedAt;
    process.stdout.write(`[figure] standby became leader ${(tookOver / 1000).toFixed(1)}s after the leader was killed (lease 4s)\n`);
    expect(tookOver).toBeLessThan(4000 + 2000);

    const done = await waitForRelease(c, ns, 'Succeeded', (r) => r.status?.phase === 'Succeeded', 40_000);
    expect(done.status?.currentStep).toBe(4);
    const events = await c.eventsWith(ns, ['Promoted']);
    expect(stepsTold(events).sort()).toEqual(['1', '2', '3']);
    await c.settled(ns, { v1: 0, v2: 100 });
    const vsGen1 = ((await c.virtualService(ns)).metadata as { generation?: number }).generation ?? 0;
    expect(vsGen1 - vsGen0).toBe(4);
    const lease = await waitFor('lease held by b', async () => {
      const l = await c.kc.makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api).readNamespacedLease({ namespace: ns, name: 'canary-operator-leader' });
      return l.spec?.holderIdentity === 'replica-b' ? l : undefined;
    });
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    expect(await b.kill('SIGTERM')).toBe(0);
  }, 90_000);

  it('releases the lease on SIGTERM so the standby takes over at once', async () => {
    const ns = await c.namespace('handover');
    const env = { LEADER_ELECT: 'true', LEASE_NAMESPACE: ns, LEASE_DURATION_SECONDS: '15', POD_NAMESPACE: ns };
    const a = startOperator({ ...env, POD_NAME: 'replica-a' });
    await a.ready();
    const b = startOperator({ ...env, POD_NAME: 'replica-b' });
    await b.synced();
    const stoppedAt = Date.now();
    expect(await a.kill('SIGTERM')).toBe(0);
    await b.ready();
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    await b.kill('SIGTERM');
  }, 60_000);
});
