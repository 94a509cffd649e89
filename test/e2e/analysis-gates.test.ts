// Analysis gates end to end: the operator, the real kube-apiserver, the mesh
// simulator producing Istio metrics from the live VirtualService weights, and
// a real Prometheus scraping it every second.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startPrometheus, type RunningPrometheus } from '../harness/prometheus.js';
import { ANNOTATIONS } from '../../tools/mesh-simulator/behaviour.js';
import { startSimulator, type RunningSimulator } from '../../tools/mesh-simulator/simulator.js';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { Cluster, condition, kubeconfigPath, waitFor, waitForRelease, type Release } from './support/cluster.js';

const c = new Cluster();
const CASES = ['healthy', 'errors', 'slow', 'pause', 'outage', 'quiet', 'relative', 'custom'] as const;
type Case = (typeof CASES)[number];
const ns = {} as Record<Case, string>;
let simulator: RunningSimulator;
let prometheus: RunningPrometheus;
let operator: OperatorProcess;

/** Behaviour of a subset, through the simulator's Deployment annotations. */
async function behave(namespace: string, version: string, b: { errorRate?: number; p50?: number; p99?: number }): Promise<void> {
  const annotations: Record<string, string> = {};
  if (b.errorRate !== undefined) annotations[ANNOTATIONS.errorRate] = String(b.errorRate);
  if (b.p50 !== undefined) annotations[ANNOTATIONS.latencyP50] = String(b.p50);
  if (b.p99 !== undefined) annotations[ANNOTATIONS.latencyP99] = String(b.p99);
  await c.apps.patchNamespacedDeployment(
    { namespace, name: `reviews-${version}`, body: { metadata: { annotations } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

const analysis = (extra: Record<string, unknown>, gates: unknown[]) => ({
  interval: '1s', window: '10s', minRequests: 10, failureLimit: 3, ...extra, gates,
});
const release = (a: Record<string, unknown>, steps: unknown[] = [{ weight: 20, duration: '3s' }, { weight: 50, duration: '3s' }, { weight: 100 }]) => ({
  service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' }, canary: { subset: 'v2' }, steps, analysis: a,
});
const ERRORS = { name: 'errors', errorRate: { max: '5%' } };
const P99 = { name: 'p99', latency: { percentile: 99, maxMs: 1000 } };

beforeAll(async () => {
  for (const k of CASES) {
    ns[k] = await c.namespace(`gates-${k}`);
    await c.bookinfo(ns[k]);
  }
  simulator = await startSimulator({
    kubeconfig: kubeconfigPath(),
    seed: 7,
    logLevel: 'warn',
    // The quiet namespace gets no traffic at all.
    hosts: CASES.filter((k) => k !== 'quiet').map((k) => ({ namespace: ns[k], service: 'reviews', rps: 40 })),
  });
  prometheus = await startPrometheus({ targets: [simulator.target], scrapeIntervalSeconds: 1 });
  operator = startOperator({ PROMETHEUS_ADDRESS: prometheus.url });
  await operator.ready();
}, 90_000);

afterAll(async () => {
  await operator?.kill('SIGTERM');
  await prometheus?.stop();
  await simulator?.stop();
});

const gate = (r: Release, name: string) =>
  (r.status?.analysis as { gates?: { name: string; verdict: string; value?: number; message: string; query: string }[] } | undefined)?.gates?.find((g) => g.name === name);

describe('analysis gates', () => {
  it('promote a healthy canary, with every gate value in status', async () => {
    await c.createRelease(ns.healthy, release(analysis({}, [ERRORS, P99])));
    const r = await waitForRelease(c, ns.healthy, 'Succeeded', (x) => x.status?.phase === 'Succeeded', 60_000);
    expect(await c.settled(ns.healthy, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
    expect(gate(r, 'errors')).toMatchObject({ verdict: 'Pass', value: 0 });
    expect(gate(r, 'errors')?.query).toContain('destination_version="v2"');
    expect(gate(r, 'p99')?.verdict).toBe('Pass');
    expect(gate(r, 'p99')?.value).toBeGreaterThan(0);
    // Passing gates are told in the step they let advance (a GatesPassed Event is for gates that recover).
    const events = await c.eventsWith(ns.healthy, ['StepAdvanced', 'Promoted']);
    expect(events.filter((e) => e.reason === 'StepAdvanced').map((e) => e.message)).toContainEqual(expect.stringContaining('after gates passed: '));
    expect(events.map((e) => e.reason)).not.toContain('GateFailed');
  }, 90_000);

  it('roll a canary answering 20% 5xx back to stable within failureLimit checks of its first exposure', async () => {
    await behave(ns.errors, 'v2', { errorRate: 0.2 });
    await c.createRelease(ns.errors, release(analysis({}, [ERRORS]), [{ weight: 20, duration: '5m' }, { weight: 100 }]));
    const exposed = await waitFor('first exposure', async () => ((await c.weights(ns.errors)).v2 ?? 0) > 0 && Date.now(), 30_000, 100);
    const back = await waitFor('back at 100% v1', async () => (await c.weights(ns.errors)).v1 === 100 && Date.now(), 60_000, 100);
    const r = await waitForRelease(c, ns.errors, 'RolledBack', (x) => x.status?.phase === 'RolledBack');
    process.stdout.write(`[figure] 20% 5xx canary: first exposure to 100% stable took ${((back - exposed) / 1000).toFixed(1)}s (interval 1s, window 10s, failureLimit 3)\n`);
    expect(condition(r, 'Progressing')?.reason).toBe('AnalysisFailed');
    expect(r.status?.message).toMatch(/error rate [0-9.]+% > 5% .*on 3 consecutive checks: rolled back to v1/);
    // A GateFailed for each failing check before the last; the last one's words are in AnalysisFailed.
    const events = await c.eventsWith(ns.errors, ['AnalysisFailed']);
    expect(events.filter((e) => e.reason === 'GateFailed').map((e) => e.message?.slice(0, 9))).toEqual(['Check 1/3', 'Check 2/3']);
    expect(events.find((e) => e.reason === 'AnalysisFailed')?.message).toMatch(/on 3 consecutive checks: rolled back to v1/);
    expect(gate(r, 'errors')?.verdict).toBe('Fail');
  }, 90_000);

  it('fail a slow canary on the latency gate', async () => {
    await behave(ns.slow, 'v2', { p50: 600, p99: 3000 });
    await c.createRelease(ns.slow, release(analysis({}, [ERRORS, { name: 'p99', latency: { percentile: 99, maxMs: 500 } }])));
    const r = await waitForRelease(c, ns.slow, 'RolledBack', (x) => x.status?.phase === 'RolledBack', 60_000);
    expect(gate(r, 'p99')?.verdict).toBe('Fail');
    expect(gate(r, 'errors')?.verdict).toBe('Pass');
    expect(r.status?.message).toMatch(/p99 latency [0-9.]+ms > 500ms/);
    expect(await c.settled(ns.slow, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });
  }, 90_000);

  it('pause instead of rolling back with onFailure: pause, freezing the weights until a person decides', async () => {
    await behave(ns.pause, 'v2', { errorRate: 0.3 });
    await c.createRelease(ns.pause, release(analysis({ onFailure: 'pause' }, [ERRORS]), [{ weight: 20, duration: '5m' }, { weight: 100 }]));
    const r = await waitForRelease(c, ns.pause, 'Paused', (x) => x.status?.phase === 'Paused', 60_000);
    expect(r.status?.pausedBy).toBe('analysis');
    expect(condition(r, 'Progressing')?.reason).toBe('AnalysisFailed');
    await new Promise((res) => setTimeout(res, 3000));
    expect(await c.settled(ns.pause, { v1: 80, v2: 20 })).toEqual({ v1: 80, v2: 20 });
    expect((await c.release(ns.pause))?.status?.phase).toBe('Paused');
    await c.annotate(ns.pause, 'canary-operator.dev/abort', 'looked-bad');
    await waitForRelease(c, ns.pause, 'RolledBack after abort', (x) => x.status?.phase === 'RolledBack');
    expect(await c.settled(ns.pause, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });
  }, 90_000);

  it('hold while Prometheus is down (no advance, no promotion) and continue once it is back', async () => {
    await c.createRelease(ns.outage, release(analysis({}, [ERRORS]), [{ weight: 20, duration: '2s' }, { weight: 100 }]));
    await waitForRelease(c, ns.outage, 'step 1', (x) => x.status?.currentStep === 1);
    await prometheus.down();
    try {
      const held = await waitForRelease(c, ns.outage, 'metrics unavailable', (x) => (x.status?.analysis as { verdict?: string } | undefined)?.verdict === 'Error', 30_000);
      await new Promise((res) => setTimeout(res, 4000));
      const still = await c.release(ns.outage);
      expect(still?.status).toMatchObject({ phase: 'Progressing', currentStep: 1, canaryWeight: 20 });
      expect(await c.settled(ns.outage, { v1: 80, v2: 20 })).toEqual({ v1: 80, v2: 20 });
      expect(held.status?.message).toContain('metrics unavailable since');
      expect(still?.status?.message).toContain('metrics unavailable since');
      expect((await c.eventsWith(ns.outage, ['MetricsUnavailable'])).map((e) => e.reason)).toContain('MetricsUnavailable');
    } finally {
      await prometheus.up();
    }
    await waitForRelease(c, ns.outage, 'Succeeded after Prometheus returned', (x) => x.status?.phase === 'Succeeded', 60_000);
  }, 120_000);

  it('hold a release with zero traffic as inconclusive, never promoting it', async () => {
    await c.createRelease(ns.quiet, release(analysis({}, [ERRORS]), [{ weight: 20, duration: '1s' }, { weight: 100 }]));
    const r = await waitForRelease(c, ns.quiet, 'inconclusive', (x) => (x.status?.analysis as { verdict?: string } | undefined)?.verdict === 'Inconclusive', 30_000);
    await new Promise((res) => setTimeout(res, 4000));
    const still = await c.release(ns.quiet);
    expect(still?.status).toMatchObject({ phase: 'Progressing', currentStep: 1, canaryWeight: 20 });
    expect(gate(r, 'errors')?.message).toMatch(/only 0 v2 requests in the last 10s \(need 10\)/);
    expect(still?.status?.message).toContain('inconclusive since');
    expect(condition(still as Release, 'Healthy')?.status).toBe('Unknown');
  }, 60_000);

  it('catch a canary worse than stable with a relative gate while the absolute threshold would pass it', async () => {
    await behave(ns.relative, 'v1', { errorRate: 0.01 });
    await behave(ns.relative, 'v2', { errorRate: 0.12 });
    await c.createRelease(ns.relative, release(analysis({}, [
      { name: 'absolute', errorRate: { max: '25%' } },
      { name: 'vs-stable', errorRate: { maxIncreaseOverStable: '3%' } },
    ]), [{ weight: 50, duration: '5m' }, { weight: 100 }]));
    const r = await waitForRelease(c, ns.relative, 'RolledBack', (x) => x.status?.phase === 'RolledBack', 60_000);
    expect(gate(r, 'absolute')?.verdict).toBe('Pass');
    expect(gate(r, 'vs-stable')?.verdict).toBe('Fail');
    expect(gate(r, 'vs-stable')?.message).toMatch(/points above stable's/);
  }, 90_000);

  it('evaluate a custom PromQL gate', async () => {
    await behave(ns.custom, 'v2', { errorRate: 0.4 });
    const share = (code: string) =>
      `sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="{{namespace}}",destination_service_name="{{service}}",destination_version="{{version}}"${code}}[{{window}}]))`;
    await c.createRelease(ns.custom, release(analysis({}, [
      { name: 'server-errors', query: `${share(',response_code=~"5.."')} / ${share('')}`, max: 0.1 },
    ]), [{ weight: 50, duration: '5m' }, { weight: 100 }]));
    const r = await waitForRelease(c, ns.custom, 'RolledBack', (x) => x.status?.phase === 'RolledBack', 60_000);
    const g = gate(r, 'server-errors');
    expect(g?.verdict).toBe('Fail');
    expect(g?.value).toBeGreaterThan(0.1);
    expect(g?.query).toContain(`destination_service_namespace="${ns.custom}"`);
    expect(g?.query).not.toContain('{{');
  }, 90_000);
});
