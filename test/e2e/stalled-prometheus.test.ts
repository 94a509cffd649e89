// No tenant can stall the others: four releases whose Prometheus stops
// answering (every query hangs for the whole 60s timeout) must not delay a
// fifth release's rollback on a healthy Prometheus. Analysis rounds run beside
// the reconcile workers, with a limit per Prometheus address.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHangingPrometheus, type HangingPrometheus } from '../harness/hanging-prometheus.js';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { Cluster, condition, waitFor, waitForRelease } from './support/cluster.js';
import { behave, startMesh, type MeshStack } from './support/mesh.js';

const c = new Cluster();
let mesh: MeshStack;
let dead: HangingPrometheus;
let operator: OperatorProcess;
const stuck: string[] = [];
let bad: string;

const release = (analysis: Record<string, unknown>) => ({
  service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' }, canary: { subset: 'v2' }, steps: [{ weight: 20, duration: '10m' }, { weight: 100 }],
  analysis: { interval: '1s', window: '3s', minRequests: 1, failureLimit: 1, gates: [{ name: 'errors', errorRate: { max: '5%' } }], ...analysis },
});

beforeAll(async () => {
  for (let i = 0; i < 4; i++) {
    const ns = await c.namespace(`stuck-${i}`);
    await c.bookinfo(ns);
    stuck.push(ns);
  }
  bad = await c.namespace('stalled-bad');
  await c.bookinfo(bad);
  mesh = await startMesh([...stuck, bad].map((namespace) => ({ namespace })));
  dead = await startHangingPrometheus();
  operator = startOperator({ PROMETHEUS_ADDRESS: mesh.prometheus.url, PROMETHEUS_ALLOWED_ADDRESSES: `${mesh.prometheus.url},${dead.url}` });
  await operator.ready();
}, 90_000);

afterAll(async () => {
  expect(await operator?.kill('SIGTERM')).toBe(0);
  await dead?.stop();
  await mesh?.stop();
});

describe('a Prometheus that never answers', () => {
  it("holds only the releases that use it; another release's rollback is applied within an interval of its failing round", async () => {
    for (const ns of stuck) await c.createRelease(ns, release({ prometheus: { address: dead.url, timeout: '60s' } }));
    // The four rounds share one grouped query (same window, same round time): it hangs for 60s.
    await waitFor('rounds hanging on the dead Prometheus', async () => dead.hanging >= 1, 30_000);
    await behave(c, bad, 'v2', { errorRate: 0.6 });
    await c.createRelease(bad, release({}));
    const back = await waitFor('the bad canary back on stable', async () => ((await c.weights(bad)).v1 === 100 && (await c.release(bad))?.status?.phase === 'RolledBack') && Date.now(), 30_000, 50);
    const r = await c.release(bad);
    const failingRound = Date.parse((r?.status?.analysis as { evaluatedAt: string }).evaluatedAt);
    process.stdout.write(`[figure] with 4 releases stuck on a Prometheus that never answers: rollback applied ${((back - failingRound) / 1000).toFixed(1)}s after the failing round (interval 1s)\n`);
    expect(condition(r!, 'Progressing')?.reason).toBe('AnalysisFailed');
    expect(back - failingRound).toBeLessThan(5000);
    // The stuck releases hold, saying metrics are unavailable or the round is still out; none moved on.
    for (const ns of stuck) expect((await c.release(ns))?.status).toMatchObject({ phase: 'Progressing', currentStep: 1, canaryWeight: 20 });
  }, 90_000);
});
