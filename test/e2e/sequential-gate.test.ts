// The sequential gate end to end: the operator, the real kube-apiserver and
// etcd, the mesh simulator and a real Prometheus. Stable fails 10% of its
// requests in both namespaces; a canary failing 20% (twice stable's rate) is
// rolled back on the evidence, and one failing 10% is promoted, with its
// evidence and its latency boundary in status. That canary is a little faster
// than stable: slow requests are rare (about 0.5% above the boundary), and
// with latency exactly equal the evidence can lean against the canary by
// chance, which holds its step (sequential-judge.ts) for minutes (seen: 86 s; a CI
// run that timed out at 150 s was most likely this); how long such holds last is
// bench:judge's business, not an end-to-end test's.
import { describe, expect, it } from '@jest/globals';
import { Cluster, condition, waitForRelease } from './support/cluster.js';
import { behave } from './support/mesh.js';
import { meshWithOperatorForSuite } from './support/suite.js';

const c = new Cluster();
const CASES = ['twice', 'healthy'] as const;
const ns = {} as Record<(typeof CASES)[number], string>;

const release = {
  service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' }, canary: { subset: 'v2' },
  steps: [{ weight: 50, duration: '30s' }, { weight: 100 }],
  analysis: {
    interval: '2s',
    gates: [
      { name: 'errors-vs-stable', sequential: { errorRate: { maxRatioOverStable: 1.2 } } },
      { name: 'p99-vs-stable', sequential: { latency: { percentile: 99 } } },
    ],
  },
};

interface SequentialStatus {
  countedUntil?: string;
  gates: Record<string, { boundaryMs?: number; evidence: { release: { canaryRequests: number; canaryEvents: number; stableRequests: number; stableEvents: number } } }>;
}
type Analysis = { verdict: string; sequential?: SequentialStatus; gates: { name: string; query: string; verdict: string; message: string }[] };

meshWithOperatorForSuite(async () => {
  for (const k of CASES) {
    ns[k] = await c.namespace(`seq-${k}`);
    await c.bookinfo(ns[k]);
    await behave(c, ns[k], 'v1', { errorRate: 0.1 });
  }
  await behave(c, ns.twice, 'v2', { errorRate: 0.2 });
  await behave(c, ns.healthy, 'v2', { errorRate: 0.1, p99: 150 });
  return CASES.map((k) => ({ namespace: ns[k], rps: 100 }));
});

describe('a sequential gate against the real Prometheus', () => {
  it('rolls back a canary with twice stable\'s error rate on the evidence, saying it in plain words', async () => {
    const n = ns.twice;
    await c.createRelease(n, release);
    const r = await waitForRelease(c, n, 'ended', (x) => x.status?.phase === 'RolledBack' || x.status?.phase === 'Succeeded', 120_000);
    expect(r.status?.phase).toBe('RolledBack');
    expect(condition(r, 'Progressing')?.reason).toBe('AnalysisFailed');
    // Two sequential gates share the 1% bound: 0.5% each, a bound of 200.
    expect(r.status?.message).toMatch(/canary error rate [0-9.]+x stable's, [0-9,]+ of [0-9,]+ vs [0-9,]+ of [0-9,]+; evidence [0-9.e,]+ against reached the bound of 200: rolled back to v1/);
    const analysis = r.status?.analysis as Analysis;
    const errors = analysis.sequential?.gates['errors-vs-stable']?.evidence.release;
    expect(errors?.canaryEvents).toBeGreaterThan(0);
    // Both subsets were counted: the canary's share of the errors is well above its share of the requests.
    expect((errors?.canaryEvents ?? 0) / (errors?.canaryRequests ?? 1)).toBeGreaterThan((errors?.stableEvents ?? 0) / (errors?.stableRequests ?? 1));
    expect(analysis.gates.find((g) => g.name === 'errors-vs-stable')?.query).toContain('increase(istio_requests_total{reporter="destination"');
    expect(await c.settled(n, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });
  }, 150_000);

  it('promotes a canary as good as stable (its errors the same, its p99 a little lower), with its evidence and the latency boundary it chose from stable in status', async () => {
    const n = ns.healthy;
    await c.createRelease(n, release);
    const r = await waitForRelease(c, n, 'ended', (x) => x.status?.phase === 'RolledBack' || x.status?.phase === 'Succeeded', 150_000);
    expect(r.status?.phase).toBe('Succeeded');
    const analysis = r.status?.analysis as Analysis;
    expect(analysis.verdict).toBe('Pass');
    expect(analysis.sequential?.countedUntil).toBeDefined();
    expect(analysis.sequential?.gates['errors-vs-stable']?.evidence.release.canaryRequests).toBeGreaterThanOrEqual(50);
    // Stable's p99 is the simulator's default, 200ms: the boundary nearest stable's p99 is a bucket boundary around it.
    expect([100, 250, 500]).toContain(analysis.sequential?.gates['p99-vs-stable']?.boundaryMs);
    expect(analysis.gates.map((g) => [g.name, g.verdict])).toEqual([['errors-vs-stable', 'Pass'], ['p99-vs-stable', 'Pass']]);
    expect(await c.settled(n, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
  }, 180_000);
});
