// Two operator replicas; the leader talks to the API server through a proxy
// that starts holding its Lease requests unanswered (a hung connection). The
// leader must stop acting at its renew deadline, before the standby takes
// over, and the release in flight must finish under the new leader.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { startApiProxy, type ApiProxy } from '../harness/api-proxy.js';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { Cluster, kubeconfigPath, stepsTold, waitForRelease } from './support/cluster.js';

const c = new Cluster();
let proxy: ApiProxy | undefined;
let dir: string | undefined;
const operators: OperatorProcess[] = [];
afterAll(async () => {
  // After a failure an operator may still run; it must not outlive the file.
  await Promise.all(operators.map((o) => o.kill('SIGKILL')));
  await proxy?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The pino time (ms) of the first log record with this message prefix. */
function loggedAt(logs: string[], prefix: string): number | undefined {
  for (const line of logs) {
    try {
      const rec = JSON.parse(line) as { msg?: string; time?: string };
      if (rec.msg?.startsWith(prefix) && rec.time) return Date.parse(rec.time);
    } catch {
      // not JSON
    }
  }
  return undefined;
}

describe('leader election with a stalled API connection', () => {
  it('the leader whose Lease requests hang exits at its renew deadline, before the standby becomes leader, and the release finishes', async () => {
    const ns = await c.namespace('stall');
    await c.bookinfo(ns);
    dir = await mkdtemp(join(tmpdir(), 'canary-stall-'));
    proxy = await startApiProxy(kubeconfigPath());
    const proxied = join(dir, 'kubeconfig');
    await proxy.writeKubeconfig(proxied);

    // Lease 6s: renew deadline 4s, Lease calls time out after 2s, retry every 0.8s.
    const env = { LEADER_ELECT: 'true', LEASE_NAMESPACE: ns, LEASE_DURATION_SECONDS: '6', POD_NAMESPACE: ns };
    const a = startOperator({ ...env, POD_NAME: 'replica-a', KUBECONFIG: proxied });
    operators.push(a);
    await a.ready();
    const b = startOperator({ ...env, POD_NAME: 'replica-b' });
    operators.push(b);
    await b.synced();
    expect(b.leading()).toBe(false);

    await c.createRelease(ns, {
      service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
      stable: { subset: 'v1' }, canary: { subset: 'v2' },
      steps: [{ weight: 10, duration: '4s' }, { weight: 50, duration: '4s' }, { weight: 100 }],
    });
    await waitForRelease(c, ns, 'step 1 (by the leader, a)', (r) => r.status?.currentStep === 1);

    const stall = proxy.stall((r) => r.path.startsWith(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`));
    const stalledAt = Date.now();
    let aExitObservedAt = 0;
    void a.exited.then(() => (aExitObservedAt = Date.now()));
    const { code } = await a.exited;
    await b.ready();

    const aLostAt = loggedAt(a.logs, 'lost leadership');
    const bLeaderAt = loggedAt(b.logs, 'became leader');
    process.stdout.write(`[figure] lease requests stalled; leader a exited after ${((aExitObservedAt - stalledAt) / 1000).toFixed(1)}s, standby b became leader after ${(((bLeaderAt ?? 0) - stalledAt) / 1000).toFixed(1)}s (lease 6s, renew deadline 4s)\n`);
    expect(stall.hits).toBeGreaterThan(0);
    expect(code).toBe(1);
    expect(aLostAt).toBeDefined();
    expect(bLeaderAt).toBeDefined();
    // The test saw a's process gone before b logged that it leads.
    expect(aExitObservedAt).toBeGreaterThan(0);
    expect(aExitObservedAt).toBeLessThan(bLeaderAt!);
    // a stopped within its renew deadline of the stall (plus one retry period and scheduling slack).
    expect(aLostAt! - stalledAt).toBeLessThan(4000 + 800 + 1000);

    const done = await waitForRelease(c, ns, 'Succeeded under b', (r) => r.status?.phase === 'Succeeded', 40_000);
    expect(done.status?.currentStep).toBe(3);
    expect(stepsTold(await c.eventsWith(ns, ['Promoted'])).sort()).toEqual(['1', '2']);
    expect(b.logs.some((l) => l.includes(`"release":"${ns}/reviews"`))).toBe(true);
    expect(await b.kill('SIGTERM')).toBe(0);
  }, 120_000);
});
