// Evidence tied to the step, checks done before any traffic moves, and a
// quiet canary that ends without a verdict told apart from a broken one:
// the operator, the real kube-apiserver, the mesh simulator and a real
// Prometheus.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { Cluster, condition, kubeconfigPath, waitFor, waitForRelease } from './support/cluster.js';
import { behave, startMesh, type MeshStack } from './support/mesh.js';

const c = new Cluster();
const CASES = ['short', 'hundred', 'retry', 'label', 'unreachable', 'quiet', 'quietpause'] as const;
type Case = (typeof CASES)[number];
const ns = {} as Record<Case, string>;
const QUIET: Case[] = ['quiet', 'quietpause'];
let mesh: MeshStack;
let operator: OperatorProcess;

const release = (analysis: Record<string, unknown>, steps: unknown[]) => ({
  service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' }, canary: { subset: 'v2' }, steps,
  analysis: { interval: '1s', window: '10s', minRequests: 5, failureLimit: 2, gates: [{ name: 'errors', errorRate: { max: '5%' } }], ...analysis },
});
const generation = async (n: string) => ((await c.virtualService(n)).metadata as { generation?: number }).generation ?? 0;
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

function pluginWait(namespace: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(join(ROOT, 'bin', 'kubectl-canary'), ['wait', 'reviews', '-n', namespace, '--kubeconfig', kubeconfigPath(), '--timeout', '60s'], { stdio: 'ignore' });
    child.once('close', (code) => resolve(code));
  });
}

beforeAll(async () => {
  for (const k of CASES) {
    ns[k] = await c.namespace(`safe-${k}`);
    await c.bookinfo(ns[k]);
  }
  mesh = await startMesh(CASES.filter((k) => !QUIET.includes(k)).map((k) => ({ namespace: ns[k] })));
  operator = startOperator({ PROMETHEUS_ADDRESS: mesh.prometheus.url, PROMETHEUS_ALLOWED_ADDRESSES: `${mesh.prometheus.url},http://127.0.0.1:1` });
  await operator.ready();
}, 90_000);

afterAll(async () => {
  expect(await operator?.kill('SIGTERM')).toBe(0);
  await mesh?.stop();
});

describe('evidence is tied to the step', () => {
  it('a step shorter than the interval advances only on a round whose window lies after the step began', async () => {
    const n = ns.short;
    await c.createRelease(n, release({ interval: '4s', window: '2s', minRequests: 1 }, [{ weight: 10, duration: '1s' }, { weight: 50, duration: '1s' }, { weight: 100 }]));
    const s2 = await waitForRelease(c, n, 'step 2', (r) => r.status?.currentStep === 2, 60_000);
    const step2At = Date.parse(s2.status?.stepStartedAt ?? '');
    const done = await waitForRelease(c, n, 'Succeeded', (r) => r.status?.phase === 'Succeeded', 60_000);
    const completed = Date.parse(String(done.status?.completedAt));
    const last = done.status?.analysis as { evaluatedAt: string; verdict: string };
    expect(last.verdict).toBe('Pass');
    // The promoting round measured [evaluatedAt - 2s, evaluatedAt], all of it at 50%.
    expect(Date.parse(last.evaluatedAt) - 2000).toBeGreaterThanOrEqual(step2At);
    expect(completed - step2At).toBeGreaterThanOrEqual(2000);
  }, 90_000);

  it('a plan whose only step is 100 still needs a passing round: a failing canary is rolled back, not promoted', async () => {
    const n = ns.hundred;
    await behave(c, n, 'v2', { errorRate: 0.4 });
    await c.createRelease(n, release({ failureLimit: 1, window: '3s' }, [{ weight: 100 }]));
    const r = await waitForRelease(c, n, 'ended', (x) => x.status?.phase === 'RolledBack' || x.status?.phase === 'Succeeded', 60_000);
    expect(r.status?.phase).toBe('RolledBack');
    expect(condition(r, 'Progressing')?.reason).toBe('AnalysisFailed');
    expect(await c.settled(n, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });
  }, 90_000);

  it('a retry waits for fresh data: a canary fixed after a rollback is judged on what it does now', async () => {
    const n = ns.retry;
    await behave(c, n, 'v2', { errorRate: 0.5 });
    await c.createRelease(n, release({}, [{ weight: 50, duration: '4s' }, { weight: 100 }]));
    await waitForRelease(c, n, 'RolledBack', (x) => x.status?.phase === 'RolledBack', 60_000);
    await behave(c, n, 'v2', { errorRate: 0 });
    await c.annotate(n, 'canary-operator.dev/retry', 'fixed');
    const r = await waitForRelease(c, n, 'ended after retry', (x) => x.status?.handledRequests !== undefined
      && (x.status.handledRequests as { retry?: string }).retry === 'fixed' && (x.status?.phase === 'Succeeded' || x.status?.phase === 'RolledBack'), 90_000);
    expect(r.status?.phase).toBe('Succeeded');
  }, 120_000);
});

describe('checks that can be made before traffic moves are made before', () => {
  it('refuses a prometheus.address that is not http(s) at admission, naming the field', async () => {
    for (const address of ['file:///etc/passwd', 'gopher://127.0.0.1:70/x']) {
      const n = await c.namespace('safe-scheme');
      await c.bookinfo(n);
      const created = c.createRelease(n, release({ prometheus: { address } }, [{ weight: 10, duration: '5s' }, { weight: 100 }]));
      await expect(created).rejects.toMatchObject({ body: expect.stringContaining('spec.analysis.prometheus.address') });
    }
  }, 60_000);

  it('holds at 0 when the version label is on no subset', async () => {
    const n = ns.label;
    const gen0 = await generation(n);
    await c.createRelease(n, release({ versionLabel: 'track' }, [{ weight: 10, duration: '5s' }, { weight: 100 }]));
    const r = await waitForRelease(c, n, 'preflight hold', (x) => condition(x, 'Progressing')?.reason === 'PreflightFailed');
    expect(r.status).toMatchObject({ phase: 'Pending', canaryWeight: 0 });
    expect(r.status?.message).toContain('spec.analysis.versionLabel');
    await new Promise((res) => setTimeout(res, 2000));
    expect(await generation(n)).toBe(gen0);
  }, 60_000);

  it('holds at 0 when Prometheus cannot be reached', async () => {
    const n = ns.unreachable;
    const gen0 = await generation(n);
    await c.createRelease(n, release({ prometheus: { address: 'http://127.0.0.1:1' } }, [{ weight: 10, duration: '5s' }, { weight: 100 }]));
    const r = await waitForRelease(c, n, 'preflight hold', (x) => condition(x, 'Progressing')?.reason === 'PreflightFailed');
    expect(r.status).toMatchObject({ phase: 'Pending', canaryWeight: 0 });
    expect(r.status?.message).toContain('Prometheus');
    await new Promise((res) => setTimeout(res, 2000));
    expect(await generation(n)).toBe(gen0);
  }, 60_000);
});

describe('a quiet canary', () => {
  it('ends without a verdict, told apart from a failing one (reason, Event, exit code 3 of kubectl canary wait)', async () => {
    const n = ns.quiet;
    const waited = pluginWait(n);
    await c.createRelease(n, release({ inconclusiveTimeout: '4s' }, [{ weight: 20, duration: '1s' }, { weight: 100 }]));
    const r = await waitForRelease(c, n, 'ended', (x) => x.status?.phase === 'RolledBack', 60_000);
    expect(condition(r, 'Progressing')?.reason).toBe('AnalysisInconclusive');
    expect(r.status?.message).toContain('without a verdict');
    expect((await c.eventsWith(n, ['AnalysisInconclusive'])).some((e) => e.type === 'Warning' && e.reason === 'AnalysisInconclusive')).toBe(true);
    expect(await waited).toBe(3);
  }, 90_000);

  it('pauses instead, with onInconclusive: pause', async () => {
    const n = ns.quietpause;
    await c.createRelease(n, release({ inconclusiveTimeout: '4s', onInconclusive: 'pause' }, [{ weight: 20, duration: '1s' }, { weight: 100 }]));
    const r = await waitForRelease(c, n, 'Paused', (x) => x.status?.phase === 'Paused', 60_000);
    expect(r.status?.pausedBy).toBe('analysis');
    expect(condition(r, 'Progressing')?.reason).toBe('AnalysisInconclusive');
    expect(await c.settled(n, { v1: 80, v2: 20 })).toEqual({ v1: 80, v2: 20 });
    await waitFor('still paused', async () => (await c.release(n))?.status?.phase === 'Paused');
  }, 90_000);
});
