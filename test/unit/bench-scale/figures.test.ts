import { describe, expect, test } from '@jest/globals';
import type { AuditRequest } from '../../../bench/scale/audit-log.js';
import { afterBoundaryShare, computeFigures } from '../../../bench/scale/figures.js';
import { releaseFixtures } from '../../../bench/scale/fixtures.js';
import type { LoggedQuery } from '../../../bench/scale/query-log.js';
import { OPERATOR_USER, SETTLE_MS, type RunData } from '../../../bench/scale/scenario.js';

const T = Date.parse('2026-01-01T00:00:00Z');
const iso = (s: number) => new Date(T + s * 1000).toISOString();
const at = (s: number) => T + s * 1000;

/** Two releases (the second a bad canary), created at 0, ended by 95 s; idle from 100 to 160 s. */
function run(): RunData {
  const fixtures = releaseFixtures(2, 1, 2);
  let rv = 0;
  const s = (seen: number, x: Record<string, unknown>) => ({ seenAt: at(seen), resourceVersion: String(++rv), ...x });
  const req = (id: string, verb: string, resource: string, t: number, extra: Partial<AuditRequest> = {}): AuditRequest => ({ id, user: OPERATOR_USER, verb, resource, receivedAt: at(t), completedAt: at(t) + 5, code: 200, ...extra });
  const q = (query: string, round: number, exec: number): LoggedQuery => ({ query, at: at(round), loggedAt: at(round) + 200, execSeconds: exec, evalSeconds: exec, queueSeconds: 0, samples: 1000, peakSamples: 10 });
  return {
    n: 2, fixtures, serverVersion: 'v1.34.4', apiserverPort: 6443, traffic: '', scrape: undefined, setupSeconds: 20, deadlineHit: false,
    histories: [
      { namespace: 'scale-0', name: fixtures[0]!.name, creationTimestamp: iso(0), statuses: [
        s(1, { phase: 'Pending', currentStep: 0 }),
        s(2, { phase: 'Progressing', currentStep: 1, stepStartedAt: iso(1.5) }),
        s(61, { phase: 'Progressing', currentStep: 2, stepStartedAt: iso(60.5), evaluatedAt: iso(60) }),
        s(91, { phase: 'Succeeded', currentStep: 3, stepStartedAt: iso(60.5), evaluatedAt: iso(90), completedAt: iso(90.5) }),
      ] },
      { namespace: 'scale-0', name: fixtures[1]!.name, creationTimestamp: iso(0), statuses: [
        s(1, { phase: 'Pending', currentStep: 0 }),
        s(2, { phase: 'Progressing', currentStep: 1, stepStartedAt: iso(1.5) }),
        s(94, { phase: 'RolledBack', currentStep: 1, evaluatedAt: iso(90), completedAt: iso(93) }),
      ] },
    ],
    audit: [
      req('start', 'list', 'canaryreleases', -5),
      ...Array.from({ length: 10 }, (_, i) => req(`s${i}`, 'update', 'canaryreleases/status', 1 + i)),
      req('v1', 'patch', 'virtualservices', 94, { namespace: 'scale-0', name: fixtures[1]!.name, completedAt: at(94) }),
      req('late', 'create', 'events', 94 + SETTLE_MS / 2000),
      req('idle', 'get', 'canaryreleases', 130),
    ],
    queries: [q('vector(1)', 1, 0.0001), q('sum by (x) (increase(istio_requests_total{}[30s]))', 30, 0.1), q('histogram_quantile(0.99, x)', 30, 2), q('sum by (x) (increase(istio_requests_total{}[30s]))', 60, 0.12), q('histogram_quantile(0.99, x)', 60, 2.2)],
    tls: [{ at: at(5), target: '127.0.0.1:6443' }, { at: at(6), target: '127.0.0.1:6443' }],
    samples: [
      { at: at(-1), rssBytes: 100 * 2 ** 20, cpuSeconds: 10, heapUsedBytes: 1, heapTotalBytes: 2, queueDepth: 0, reconciles: 0, scrapeMs: 3 },
      { at: at(50), rssBytes: 120 * 2 ** 20, cpuSeconds: 11, heapUsedBytes: 2 * 2 ** 20, heapTotalBytes: 5 * 2 ** 20, queueDepth: 7, reconciles: 100, scrapeMs: 4 },
      { at: at(99.9), rssBytes: 110 * 2 ** 20, cpuSeconds: 12, heapUsedBytes: 1, heapTotalBytes: 2, queueDepth: 0, reconciles: 200, scrapeMs: 4 },
      { at: at(159.9), rssBytes: 105 * 2 ** 20, cpuSeconds: 12.5, heapUsedBytes: 1, heapTotalBytes: 2, queueDepth: 0, reconciles: 200, scrapeMs: 4 },
      { at: at(219.9), rssBytes: 104 * 2 ** 20, cpuSeconds: 12.6, heapUsedBytes: 1, heapTotalBytes: 2, queueDepth: 0, reconciles: 203, scrapeMs: 4 },
    ],
    marks: { operatorReady: at(-5), creating: at(0), created: at(0.5), ended: at(95), idleFrom: at(95) + SETTLE_MS, idleTo: at(95) + SETTLE_MS + 60_000, quietTo: at(95) + SETTLE_MS + 120_000 },
  };
}

describe('run figures', () => {
  test('attribute requests, CPU and memory to the active and idle periods', () => {
    const f = computeFigures(run());
    expect(f.ended).toBe(2);
    expect(f.wrongPhase).toEqual([]);
    expect(f.transitions).toBe(7);
    expect(f.api.total).toBe(12);
    expect(f.api.perTransition).toBeCloseTo(12 / 7);
    expect(f.api.byKind[0]).toEqual(['update canaryreleases/status', 10 / 7, 10]);
    expect(f.api.startup).toBe(1);
    expect(f.api.idlePerMinute).toBe(0.5);
    expect(f.tls).toEqual({ total: 2, perApiRequest: 2 / 12, idle: 0 });
    expect(f.rss).toEqual({ beforeMiB: 100, peakMiB: 120, afterMiB: 104 });
    expect([f.heapPeakMiB, f.heapTotalPeakMiB]).toEqual([2, 5]);
    expect(f.cpuPerReleaseSeconds).toBe(1);
    expect(f.reconcilesPerRelease).toBe(100);
    expect(f.idleCpuSecondsPerMinute).toBeCloseTo(0.5);
    expect(f.quietCpuSecondsPerMinute).toBeCloseTo(0.1);
    expect(f.idleReconcilesPerMinute).toBeCloseTo(1.5);
    expect(f.queueDepthPeak).toBe(7);
    expect(f.durationSeconds).toBe(93);
  });

  test('count queries per release and per round, and time the lags', () => {
    const f = computeFigures(run());
    expect(f.prometheus.total).toBe(5);
    expect(f.prometheus.perRelease).toBe(2.5);
    expect(f.prometheus.rounds).toBe(2);
    expect(f.prometheus.perRound?.max).toBe(2);
    expect(f.prometheus.most?.active).toBe(2);
    expect(f.lagsSeconds.stepFromEligible?.max).toBeCloseTo(0.5);
    expect(f.lagsSeconds.rollback?.max).toBeCloseTo(4);
  });

  test('list the releases that did not end in their expected phase', () => {
    const d = run();
    d.histories[1]!.statuses.pop();
    const f = computeFigures(d);
    expect(f.ended).toBe(1);
    expect(f.wrongPhase).toEqual([`scale-0/${d.fixtures[1]!.name}: Progressing (expected RolledBack): `]);
  });
});

describe('burst share', () => {
  test('is the share of requests in the 5 s after each 30 s boundary', () => {
    expect(afterBoundaryShare([at(0), at(4.9), at(31), at(20)])).toBe(0.75);
    expect(afterBoundaryShare([])).toBeNaN();
  });
});
