// Writes that fail between the status and the route: a status write that
// conflicts with a person pausing at the same moment, a route write that
// fails, and an operator killed between the two. The operator talks to the
// real kube-apiserver through a fault-injecting proxy (test/harness/api-proxy.ts).
// Intent is recorded first, so a decided rollback is never undone, the
// operator never takes its own unfinished write for drift, and every
// transition reaches the route once.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiProxy, type ApiProxy } from '../harness/api-proxy.js';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { Cluster, condition, kubeconfigPath, waitFor, waitForRelease } from './support/cluster.js';
import { behave, startMesh, type MeshStack } from './support/mesh.js';

const c = new Cluster();
let proxy: ApiProxy;
let proxyKubeconfig: string;
let mesh: MeshStack;
let operator: OperatorProcess | undefined;
let conflictNs: string;

const base = (extra: Record<string, unknown> = {}) => ({
  service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' }, canary: { subset: 'v2' }, ...extra,
});
const generation = async (ns: string) => ((await c.virtualService(ns)).metadata as { generation?: number }).generation ?? 0;
const isStatusPut = (ns: string) => (r: { method: string; path: string }) =>
  r.method === 'PUT' && r.path === `/apis/canary-operator.dev/v1alpha1/namespaces/${ns}/canaryreleases/reviews/status`;
const isRoutePatch = (ns: string) => (r: { method: string; path: string }) =>
  r.method === 'PATCH' && r.path.endsWith(`/namespaces/${ns}/virtualservices/reviews`);

/** Every canary weight the route shows while `until` is not yet true, in order, without repeats. */
async function watchWeights(ns: string, until: () => Promise<boolean>, timeoutMs = 60_000): Promise<number[]> {
  const seen: number[] = [];
  await waitFor('the end of the watch', async () => {
    const w = (await c.weights(ns)).v2 ?? 0;
    if (seen.at(-1) !== w) seen.push(w);
    return until();
  }, timeoutMs, 100);
  const last = (await c.weights(ns)).v2 ?? 0;
  if (seen.at(-1) !== last) seen.push(last);
  return seen;
}

beforeAll(async () => {
  conflictNs = await c.namespace('write-conflict');
  await c.bookinfo(conflictNs);
  mesh = await startMesh([{ namespace: conflictNs }]);
  proxy = await startApiProxy(kubeconfigPath());
  proxyKubeconfig = join(mkdtempSync(join(tmpdir(), 'canary-proxy-')), 'kubeconfig');
  await proxy.writeKubeconfig(proxyKubeconfig);
}, 90_000);

afterAll(async () => {
  await operator?.kill('SIGTERM');
  await proxy?.close();
  await mesh?.stop();
});

async function operatorThroughProxy(): Promise<OperatorProcess> {
  operator = startOperator({ KUBECONFIG: proxyKubeconfig, PROMETHEUS_ADDRESS: mesh.prometheus.url });
  await operator.ready();
  return operator;
}

describe('writes that fail between the status and the route', () => {
  it('a status write that conflicts with a person pausing writes nothing; the rollback comes on fresh data and is never undone', async () => {
    const ns = conflictNs;
    const op = await operatorThroughProxy();
    await behave(c, ns, 'v2', { errorRate: 0.6 });
    await c.createRelease(ns, base({
      steps: [{ weight: 20, duration: '5m' }, { weight: 100 }],
      analysis: { interval: '1s', window: '3s', minRequests: 1, failureLimit: 2, gates: [{ name: 'errors', errorRate: { max: '5%' } }] },
    }));
    await waitForRelease(c, ns, 'Check 1/2', (r) => (r.status?.analysis as { consecutiveFailures?: number } | undefined)?.consecutiveFailures === 1, 60_000);
    // A person pauses the release just as the operator writes its next status: that write conflicts (409).
    let paused = false;
    const rule = proxy.before(isStatusPut(ns), async () => {
      if (paused) return;
      paused = true;
      await c.patchRelease(ns, { spec: { paused: true } });
    });
    const weights: number[] = [];
    const held = await waitFor('paused by spec', async () => {
      const w = (await c.weights(ns)).v2 ?? 0;
      if (weights.at(-1) !== w) weights.push(w);
      const r = await c.release(ns);
      return r?.status?.phase === 'Paused' || r?.status?.phase === 'RolledBack' ? r : undefined;
    }, 30_000, 100);
    rule.remove();
    expect(paused).toBe(true);
    if (held.status?.phase === 'Paused') {
      // The conflicting write was the rollback: nothing of it reached the route; the pause holds the canary's traffic.
      await new Promise((r) => setTimeout(r, 2000));
      expect((await c.weights(ns)).v2).toBe(20);
      await c.patchRelease(ns, { spec: { paused: false } });
    }
    weights.push(...(await watchWeights(ns, async () => (await c.release(ns))?.status?.phase === 'RolledBack')));
    const done = await c.release(ns);
    expect(condition(done!, 'Progressing')?.reason).toBe('AnalysisFailed');
    // From 20% straight to 0, once: a decided rollback was never undone, the canary never got traffic back.
    expect(weights.filter((w, i) => i === 0 || w !== weights[i - 1])).toEqual([20, 0]);
    const events = await c.eventsWith(ns, ['AnalysisFailed']);
    expect(events.filter((e) => e.reason === 'TrafficDrift')).toEqual([]);
    expect(await op.kill('SIGTERM')).toBe(0);
    operator = undefined;
  }, 120_000);

  it('a route write that fails after the status recorded the step is finished by the retry: once, without a drift warning', async () => {
    const ns = await c.namespace('write-fail');
    await c.bookinfo(ns);
    const op = await operatorThroughProxy();
    const gen0 = await generation(ns);
    // The first route write (step 1) fails; the retry must finish it as the operator's own, not as drift.
    const failed = proxy.fail(isRoutePatch(ns), 500, 'injected: the route write failed', 1);
    await c.createRelease(ns, base({ steps: [{ weight: 10, duration: '2s' }, { weight: 50, duration: '2s' }, { weight: 100 }] }));
    // Until the route shows what the status decided: the status says Succeeded before the route is written (intent first).
    const weights = await watchWeights(ns, async () => (await c.release(ns))?.status?.phase === 'Succeeded' && (await c.weights(ns)).v2 === 100);
    failed.remove();
    expect(failed.hits).toBe(1);
    expect(weights.filter((w) => w > 0)).toEqual([10, 50, 100]);
    expect((await generation(ns)) - gen0).toBe(3);
    const events = await c.eventsWith(ns, ['Promoted']);
    expect(events.filter((e) => e.reason === 'TrafficDrift')).toEqual([]);
    expect(await op.kill('SIGTERM')).toBe(0);
    operator = undefined;
  }, 90_000);

  it('an operator killed between the status and the route write: the next one finishes the write once, without a drift warning', async () => {
    const ns = await c.namespace('write-crash');
    await c.bookinfo(ns);
    const op = await operatorThroughProxy();
    const gen0 = await generation(ns);
    await c.createRelease(ns, base({ steps: [{ weight: 10, duration: '2s' }, { weight: 50, duration: '2s' }, { weight: 100 }] }));
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    // The step-2 route write never gets an answer; the operator dies while it waits.
    const stalled = proxy.stall(isRoutePatch(ns));
    await waitFor('the step-2 route write', async () => stalled.hits > 0, 30_000, 50);
    await op.kill('SIGKILL');
    operator = undefined;
    stalled.remove();
    const step2 = await c.release(ns);
    expect(step2?.status).toMatchObject({ currentStep: 2, canaryWeight: 50 });
    expect((await c.weights(ns)).v2).toBe(10);

    // Watched from before the next operator starts: it may finish the pending write at once.
    const watching = watchWeights(ns, async () => (await c.release(ns))?.status?.phase === 'Succeeded' && (await c.weights(ns)).v2 === 100);
    const next = startOperator();
    await next.ready();
    const weights = await watching;
    expect(weights.filter((w) => w > 0)).toEqual([10, 50, 100]);
    expect((await generation(ns)) - gen0).toBe(3);
    const events = await c.eventsWith(ns, ['Promoted']);
    expect(events.filter((e) => e.reason === 'TrafficDrift')).toEqual([]);
    expect(await next.kill('SIGTERM')).toBe(0);
  }, 90_000);
});
