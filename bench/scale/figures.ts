// The figures of one run, computed from what it recorded: the operator's
// /metrics samples, the audit log, Prometheus' query log, the TLS connection
// log and the benchmark's own watch of the releases.
import { countByVerbAndResource, lastWrites } from './audit-log.js';
import { distribution, parseTime, type Distribution } from './distribution.js';
import { STEP_DURATIONS_MS } from './fixtures.js';
import { activeAt, computeLags } from './lags.js';
import { queryKind } from './query-log.js';
import { finalStatus, transitionIndices } from './release-history.js';
import { OPERATOR_USER, SETTLE_MS, type RunData } from './scenario.js';
import { connectionsTo } from './tls-log.js';

const MiB = 2 ** 20;

export interface RoundDetail {
  at: number;
  active: number;
  queries: { kind: string; execMs: number; samples: number }[];
}

export interface RunFigures {
  n: number;
  deadlineHit: boolean;
  ended: number;
  /** Releases not in their expected phase: "namespace/name: phase (expected ...): summary". */
  wrongPhase: string[];
  /** Creation of the first release -> the last one's completedAt. */
  durationSeconds: number;
  setupSeconds: number;
  rss: { beforeMiB: number; peakMiB: number; afterMiB: number };
  heapPeakMiB: number;
  heapTotalPeakMiB: number;
  cpuPerReleaseSeconds: number;
  /** Reconciles from the creation to the end, per release. */
  reconcilesPerRelease: number;
  /** While /metrics was read every second. */
  idleCpuSecondsPerMinute: number;
  /** While /metrics was read every 15 s only. */
  quietCpuSecondsPerMinute: number;
  idleReconcilesPerMinute: number;
  transitions: number;
  api: { total: number; perTransition: number; byKind: [string, number, number][]; idlePerMinute: number; idleByKind: [string, number][]; startup: number };
  tls: { total: number; perApiRequest: number; idle: number };
  /** Per transition, with the count beside it. */
  prometheus: {
    total: number;
    perRelease: number;
    rounds: number;
    perRound: Distribution | undefined;
    byKind: { kind: string; count: number; failed: number; execMs: Distribution | undefined; samples: Distribution | undefined }[];
    idle: number;
    fewest?: RoundDetail;
    most?: RoundDetail;
  };
  lagsSeconds: { firstStep?: Distribution; stepFromEligible?: Distribution; stepFromDuration?: Distribution; rollback?: Distribution };
  operatorScrapeMs: Distribution | undefined;
  queueDepthPeak: number;
  /** Share of the operator's API requests (while releases ran) received in the first 5 s after an interval boundary; 1/6 if spread evenly. */
  requestsAfterBoundary: number;
}

/** Interval of the releases' rounds, and the part right after each boundary that burstiness is measured over. */
const INTERVAL_MS = 30_000;
const AFTER_BOUNDARY_MS = 5_000;

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const seconds = (values: number[]) => distribution(values.map((v) => v / 1000));

/** Share of times that fall within AFTER_BOUNDARY_MS after a multiple of INTERVAL_MS. */
export function afterBoundaryShare(times: readonly number[]): number {
  if (times.length === 0) return Number.NaN;
  return times.filter((t) => ((t % INTERVAL_MS) + INTERVAL_MS) % INTERVAL_MS < AFTER_BOUNDARY_MS).length / times.length;
}

export function computeFigures(d: RunData): RunFigures {
  const { marks } = d;
  const activeTo = marks.ended + SETTLE_MS;
  // Idle API requests over both idle periods (1 s and 15 s sampling).
  const idleMinutes = (marks.quietTo - marks.idleFrom) / 60_000;

  // Releases and their phases.
  const byKey = new Map(d.histories.map((h) => [`${h.namespace}/${h.name}`, h]));
  const wrongPhase: string[] = [];
  let ended = 0;
  let lastCompleted = Number.NaN;
  for (const f of d.fixtures) {
    const last = finalStatus(byKey.get(`${f.namespace}/${f.name}`) ?? { namespace: '', name: '', creationTimestamp: '', statuses: [] });
    const expected = f.bad ? 'RolledBack' : 'Succeeded';
    if (last?.phase === 'Succeeded' || last?.phase === 'RolledBack' || last?.phase === 'Failed') {
      ended++;
      const done = parseTime(last.completedAt);
      if (!(done <= lastCompleted)) lastCompleted = done;
    }
    if (last?.phase !== expected) wrongPhase.push(`${f.namespace}/${f.name}: ${last?.phase ?? 'no status'} (expected ${expected}): ${last?.summary ?? ''}`);
  }

  // Memory and CPU from the operator's own metrics.
  const before = (t: number) => { let found; for (const s of d.samples) if (s.at <= t) found = s; return found; };
  const during = d.samples.filter((s) => s.at >= marks.creating);
  const cpuAt = (t: number) => before(t)?.cpuSeconds ?? Number.NaN;
  /** Rate per minute of a counter between the samples at or before `from` and `to`, over their own times. */
  const perMinute = (from: number, to: number | undefined, value: (s: (typeof d.samples)[number]) => number) => {
    const a = before(from);
    const b = to === undefined ? d.samples.at(-1) : before(to);
    if (!a || !b || b.at <= a.at) return Number.NaN;
    return ((value(b) - value(a)) * 60_000) / (b.at - a.at);
  };
  const rss = {
    beforeMiB: (before(marks.creating)?.rssBytes ?? Number.NaN) / MiB,
    peakMiB: Math.max(...during.map((s) => s.rssBytes)) / MiB,
    afterMiB: (d.samples.at(-1)?.rssBytes ?? Number.NaN) / MiB,
  };

  // Transitions: each change of currentStep or phase the benchmark saw.
  let transitions = 0;
  for (const h of d.histories) transitions += transitionIndices(h.statuses).filter((i) => h.statuses[i]!.seenAt < activeTo).length;

  // API requests by the operator's identity.
  const active = countByVerbAndResource(d.audit, OPERATOR_USER, marks.creating, activeTo);
  const idle = countByVerbAndResource(d.audit, OPERATOR_USER, marks.idleFrom, marks.quietTo);
  const startup = sum(countByVerbAndResource(d.audit, OPERATOR_USER, 0, marks.creating));
  const total = sum(active);
  const perT = (v: number) => (transitions > 0 ? v / transitions : Number.NaN);
  const tlsTotal = connectionsTo(d.tls, d.apiserverPort, marks.creating, activeTo);

  // Prometheus queries the operator sent (the replay comes after quietTo).
  const sent = d.queries.filter((q) => q.loggedAt < marks.quietTo);
  const rounds = new Map<number, typeof sent>();
  for (const q of sent) if (q.query !== 'vector(1)') rounds.set(q.at, [...(rounds.get(q.at) ?? []), q]);
  const kinds = new Map<string, typeof sent>();
  for (const q of sent) kinds.set(queryKind(q.query), [...(kinds.get(queryKind(q.query)) ?? []), q]);
  const details = [...rounds].map(([at, qs]): RoundDetail => ({ at, active: activeAt(d.histories, at), queries: qs.map((q) => ({ kind: queryKind(q.query), execMs: q.execSeconds * 1000, samples: q.samples })) }));
  const byActive = [...details].sort((a, b) => a.active - b.active || a.at - b.at).filter((r) => r.active > 0);

  const createdAt = new Map<string, number>();
  for (const r of d.audit) if (r.user !== OPERATOR_USER && r.verb === 'create' && r.resource === 'canaryreleases' && r.completedAt !== undefined) createdAt.set(`${r.namespace}/${r.name}`, r.completedAt);
  const lags = computeLags(d.histories, { stepDurationsMs: STEP_DURATIONS_MS, createdAt, lastRouteWrite: lastWrites(d.audit, OPERATOR_USER, 'patch', 'virtualservices') });
  const lagsSeconds: RunFigures['lagsSeconds'] = {};
  for (const [k, v] of Object.entries(lags) as [keyof typeof lags, number[]][]) {
    const dist = seconds(v);
    if (dist) lagsSeconds[k] = dist;
  }

  const prometheus: RunFigures['prometheus'] = {
    total: sent.length,
    perRelease: sent.length / d.n,
    rounds: rounds.size,
    perRound: distribution([...rounds.values()].map((qs) => qs.length)),
    byKind: [...kinds].map(([kind, qs]) => ({ kind, count: qs.length, failed: qs.filter((q) => q.error !== undefined).length, execMs: distribution(qs.map((q) => q.execSeconds * 1000)), samples: distribution(qs.map((q) => q.samples)) })),
    idle: sent.filter((q) => q.loggedAt >= marks.idleFrom).length,
  };
  if (byActive[0]) prometheus.fewest = byActive[0];
  if (byActive.at(-1)) prometheus.most = byActive.at(-1)!;

  return {
    n: d.n,
    deadlineHit: d.deadlineHit,
    ended,
    wrongPhase,
    durationSeconds: (lastCompleted - marks.creating) / 1000,
    setupSeconds: d.setupSeconds,
    rss,
    heapPeakMiB: Math.max(...during.map((s) => s.heapUsedBytes)) / MiB,
    heapTotalPeakMiB: Math.max(...during.map((s) => s.heapTotalBytes)) / MiB,
    cpuPerReleaseSeconds: (cpuAt(marks.idleFrom) - cpuAt(marks.creating)) / d.n,
    reconcilesPerRelease: ((before(marks.idleFrom)?.reconciles ?? Number.NaN) - (before(marks.creating)?.reconciles ?? Number.NaN)) / d.n,
    idleCpuSecondsPerMinute: perMinute(marks.idleFrom, marks.idleTo, (s) => s.cpuSeconds),
    quietCpuSecondsPerMinute: perMinute(marks.idleTo, undefined, (s) => s.cpuSeconds),
    idleReconcilesPerMinute: perMinute(marks.idleFrom, undefined, (s) => s.reconciles),
    transitions,
    api: {
      total,
      perTransition: perT(total),
      byKind: [...active].map(([k, v]) => [k, perT(v), v]),
      idlePerMinute: sum(idle) / idleMinutes,
      idleByKind: [...idle].map(([k, v]) => [k, v / idleMinutes]),
      startup,
    },
    tls: { total: tlsTotal, perApiRequest: total > 0 ? tlsTotal / total : Number.NaN, idle: connectionsTo(d.tls, d.apiserverPort, marks.idleFrom, marks.quietTo) },
    prometheus,
    lagsSeconds,
    operatorScrapeMs: distribution(during.map((s) => s.scrapeMs).filter(Number.isFinite)),
    queueDepthPeak: Math.max(...during.map((s) => s.queueDepth)),
    requestsAfterBoundary: afterBoundaryShare(d.audit.filter((r) => r.user === OPERATOR_USER && r.receivedAt >= marks.creating && r.receivedAt < activeTo).map((r) => r.receivedAt)),
  };
}
