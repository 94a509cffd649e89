// The operator's /metrics, /healthz and /readyz, read over HTTP from the real process.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { Cluster, waitFor, waitForRelease } from './support/cluster.js';

const c = new Cluster();
let op: OperatorProcess;
const get = async (path: string) => {
  const res = await fetch(`http://127.0.0.1:${op.port()}${path}`);
  return { status: res.status, text: await res.text() };
};

beforeAll(async () => {
  op = startOperator();
  await op.ready();
}, 60_000);
afterAll(async () => {
  await op.kill('SIGTERM');
});

describe('operator metrics and health', () => {
  it('answers /healthz and /readyz once the caches synced', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect(await get('/readyz')).toMatchObject({ status: 200, text: 'ready\n' });
  });

  it('exports reconciles, queue depth, phases, weights, promotions and leadership', async () => {
    const ns = await c.namespace('metrics');
    await c.bookinfo(ns);
    await c.createRelease(ns, {
      service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
      stable: { subset: 'v1' }, canary: { subset: 'v2' }, stepWeight: 50, stepDuration: '1s',
    });
    await waitForRelease(c, ns, 'Succeeded', (r) => r.status?.phase === 'Succeeded');
    // Metrics follow the decision's writes (status first, then the route): wait for them rather than read once.
    const text = await waitFor('the weight metric at 100 and the promotion counted', async () => {
      const t = (await get('/metrics')).text;
      const promoted = /canary_operator_promotions_total\{reason="Promoted"\} [1-9]/.test(t);
      return promoted && t.includes(`canary_operator_canary_weight{namespace="${ns}",name="reviews"} 100`) ? t : undefined;
    });
    expect(text).toMatch(/canary_operator_reconcile_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/canary_operator_reconcile_duration_seconds_count\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/canary_operator_queue_depth \d/);
    expect(text).toMatch(/canary_operator_releases\{phase="Succeeded"\} [1-9]/);
    expect(text).toContain(`canary_operator_canary_weight{namespace="${ns}",name="reviews"} 100`);
    expect(text).toMatch(/canary_operator_promotions_total\{reason="Promoted"\} [1-9]/);
    expect(text).toMatch(/canary_operator_leader 1/);
    expect(text).toContain('canary_operator_process_resident_memory_bytes');

    await c.deleteRelease(ns);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get('/metrics')).text).not.toContain(`namespace="${ns}"`);
  }, 60_000);
});
