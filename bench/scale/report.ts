// The printed result: one column per N, the goal beside each figure, then
// per-N details (API requests by verb and resource, queries per round with
// their cost, releases in the wrong phase, where the CPU went).
import type { Distribution } from './distribution.js';
import type { RunFigures } from './figures.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { HeapSummary } from './heap-snapshot.js';
import type { Replay } from './scenario.js';

export interface ReportContext {
  date: string;
  mainCommit: string;
  /** The checked-out branch (HEAD when detached, ? outside git). */
  branch: string;
  branchCommit: string;
  serverVersion: string;
  prometheusVersion: string;
  traffic: string;
  releases: string;
  operator: string;
  scrape: string;
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '-');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');
const dist = (d: Distribution | undefined, fmt = f2) => (d ? `${fmt(d.median)} / ${fmt(d.p99)} / ${fmt(d.max)}` : '-');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** RSS growth per release between two runs, in KiB (peak to peak). */
export function growthPerReleaseKiB(a: RunFigures, b: RunFigures): number {
  return ((b.rss.peakMiB - a.rss.peakMiB) * 1024) / (b.n - a.n);
}

function growthLine(runs: readonly RunFigures[]): string {
  const r100 = runs.find((r) => r.n === 100);
  const r1000 = runs.find((r) => r.n === 1000);
  if (r100 && r1000) return `${f1(growthPerReleaseKiB(r100, r1000))} KiB per release (peak RSS, N=100 -> N=1000)`;
  if (runs.length >= 2) {
    const [a, b] = [runs[runs.length - 2]!, runs[runs.length - 1]!];
    return `${f1(growthPerReleaseKiB(a, b))} KiB per release (peak RSS, N=${a.n} -> N=${b.n}; the goal is stated for 100 -> 1,000)`;
  }
  return 'needs two release counts (e.g. --n 100,1000)';
}

function mainTable(runs: readonly RunFigures[]): string {
  const head = ['', ...runs.map((r) => `N=${r.n.toLocaleString('en-US')}`), 'goal'];
  const row = (label: string, cell: (r: RunFigures) => string, goal = '') => [label, ...runs.map(cell), goal];
  return table([
    head,
    row('releases ended, in expected phase', (r) => `${r.ended}, ${r.n - r.wrongPhase.length}`, 'all N'),
    row('time to all ended (s)', (r) => (r.deadlineHit ? 'deadline' : f1(r.durationSeconds))),
    row('RSS before releases (MiB)', (r) => f1(r.rss.beforeMiB)),
    row('RSS peak (MiB)', (r) => f1(r.rss.peakMiB), '<= 150 at 1,000'),
    row('RSS idle after the end (MiB)', (r) => f1(r.rss.afterMiB)),
    row('heap used peak (MiB)', (r) => f1(r.heapPeakMiB)),
    row('heap held peak, used or not (MiB)', (r) => f1(r.heapTotalPeakMiB)),
    row('CPU s per release', (r) => f3(r.cpuPerReleaseSeconds)),
    row('reconciles per release', (r) => f1(r.reconcilesPerRelease)),
    row('idle CPU s/min after the end, /metrics read 1/s', (r) => f3(r.idleCpuSecondsPerMinute), 'near 0'),
    row('  same, /metrics read every 15 s', (r) => f3(r.quietCpuSecondsPerMinute), 'near 0'),
    row('idle reconciles per min', (r) => f1(r.idleReconcilesPerMinute)),
    row('transitions observed', (r) => int(r.transitions)),
    row('API requests (operator identity)', (r) => int(r.api.total)),
    row('API requests per transition', (r) => f2(r.api.perTransition), '<= 3'),
    // Beside the ratio: a release that skips a transition (Pending, when the preflight is known) raises it while costing less.
    row('API requests per release', (r) => f2(r.api.total / r.n)),
    row('idle API requests per min', (r) => f1(r.api.idlePerMinute), '0'),
    row('API requests in the 5 s after a 30 s boundary', (r) => `${f1(100 * r.requestsAfterBoundary)}%`, '(even: 16.7%)'),
    row('work queue depth peak', (r) => int(r.queueDepthPeak)),
    row('new TLS connections per API request', (r) => f2(r.tls.perApiRequest)),
    row('Prometheus queries per release', (r) => f2(r.prometheus.perRelease)),
    row('Prometheus queries per round (median/max)', (r) => (r.prometheus.perRound ? `${r.prometheus.perRound.median} / ${r.prometheus.perRound.max}` : '-')),
    row('idle Prometheus queries', (r) => int(r.prometheus.idle), '0'),
    ...kindRows(runs),
    row('lag first step s (median/p99/max)', (r) => dist(r.lagsSeconds.firstStep), 'p99 <= 2'),
    row('lag step, from eligible (median/p99/max)', (r) => dist(r.lagsSeconds.stepFromEligible), 'p99 <= 1'),
    row('  from stepStartedAt+duration', (r) => dist(r.lagsSeconds.stepFromDuration)),
    row('lag rollback s (median/p99/max)', (r) => dist(r.lagsSeconds.rollback), 'p99 <= 1'),
    row('operator /metrics scrape ms (median/p99/max)', (r) => dist(r.operatorScrapeMs, f1)),
  ]);
}

function kindRows(runs: readonly RunFigures[]): string[][] {
  const kinds = [...new Set(runs.flatMap((r) => r.prometheus.byKind.map((k) => k.kind)))];
  return kinds.flatMap((kind) => {
    const of = (r: RunFigures) => r.prometheus.byKind.find((k) => k.kind === kind);
    return [
      [`  ${kind}: queries (failed or timed out)`, ...runs.map((r) => `${int(of(r)?.count ?? Number.NaN)} (${int(of(r)?.failed ?? Number.NaN)})`), ''],
      [`    exec ms (median/p99/max)`, ...runs.map((r) => dist(of(r)?.execMs, f1)), ''],
      [`    samples touched (median/max)`, ...runs.map((r) => { const s = of(r)?.samples; return s ? `${int(s.median)} / ${int(s.max)}` : '-'; }), ''],
    ];
  });
}

function profileText(p: ProfileSummary): string {
  const pct = (ms: number) => `${((100 * ms) / p.totalMs).toFixed(1)}%`;
  return [
    `  CPU profile: ${(p.totalMs / 1000).toFixed(1)} s sampled (start to exit). Self time by location:`,
    ...p.byLocation.map((s) => `    ${pct(s.ms).padStart(6)}  ${s.name}`),
    '  by function:',
    ...p.byFunction.map((s) => `    ${pct(s.ms).padStart(6)}  ${s.name}`),
  ].join('\n');
}

function replayText(r: Replay): string {
  const line = (x: { kind: string; stats: { execMs: number; samples: number; series: number } }) =>
    `    ${x.kind}: ${f1(x.stats.execMs)} ms, ${int(x.stats.samples)} samples touched, ${int(x.stats.series)} series returned`;
  return [
    `  replayed with stats=all at the busiest round (${new Date(r.at).toISOString()}, ${r.activeReleases} active releases):`,
    ...r.grouped.map(line),
    ...r.perRelease.map(line),
  ].join('\n');
}

function heapText(h: { afterSeconds: number; activeReleases: number; summary: HeapSummary }): string {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  return [
    `  heap snapshot ${h.afterSeconds.toFixed(0)} s after creation (${h.activeReleases} releases not ended): ${mib(h.summary.totalBytes)} MiB in ${int(h.summary.nodes)} objects; largest by self size:`,
    ...h.summary.top.map((g) => `    ${mib(g.bytes).padStart(7)} MiB  ${int(g.count).padStart(10)}  ${g.name}`),
  ].join('\n');
}

function details(r: RunFigures, replay: Replay | undefined, profile: ProfileSummary | undefined, heap?: { afterSeconds: number; activeReleases: number; summary: HeapSummary }): string {
  const out = [`N=${r.n.toLocaleString('en-US')} (setup ${f1(r.setupSeconds)} s)`];
  out.push(`  API requests per transition by verb and resource (${int(r.api.total)} requests, ${int(r.transitions)} transitions; ${int(r.api.startup)} more at startup):`);
  for (const [k, v, count] of r.api.byKind) out.push(`    ${f3(v).padStart(8)}  ${k} (${int(count)})`);
  out.push(r.api.idleByKind.length ? `  idle API requests per minute: ${r.api.idleByKind.map(([k, v]) => `${k} ${f1(v)}`).join(', ')}` : '  idle API requests: none');
  out.push(`  new TLS connections to the apiserver: ${int(r.tls.total)} while releases ran, ${int(r.tls.idle)} while idle`);
  for (const [label, round] of [['fewest', r.prometheus.fewest], ['most', r.prometheus.most]] as const) {
    if (!round) continue;
    out.push(`  round with the ${label} active releases (${round.active}, at ${new Date(round.at).toISOString()}): ${round.queries.map((q) => `${q.kind} ${f1(q.execMs)} ms, ${int(q.samples)} samples`).join('; ')}`);
  }
  if (replay) out.push(replayText(replay));
  if (r.wrongPhase.length) {
    out.push(`  not in the expected phase (${r.wrongPhase.length}):`);
    for (const w of r.wrongPhase.slice(0, 20)) out.push(`    ${w}`);
    if (r.wrongPhase.length > 20) out.push(`    ... and ${r.wrongPhase.length - 20} more`);
  } else out.push('  every release ended in its expected phase (bad canaries RolledBack, the others Succeeded)');
  if (profile) out.push(profileText(profile));
  if (heap) out.push(heapText(heap));
  return out.join('\n');
}

export interface ReportRun {
  figures: RunFigures;
  replay?: Replay;
  profile?: ProfileSummary;
  heap?: { afterSeconds: number; activeReleases: number; summary: HeapSummary };
}

/** "main abc1234", or the branch measured beside the main commit it starts from. */
export function measuredOn(ctx: Pick<ReportContext, 'mainCommit' | 'branch' | 'branchCommit'>): string {
  if (ctx.branch === 'main' || ctx.branchCommit.startsWith(ctx.mainCommit)) return `main ${ctx.branchCommit}`;
  const branch = ctx.branch === 'HEAD' || ctx.branch === '?' ? 'a detached HEAD' : `branch ${ctx.branch}`;
  return `main ${ctx.mainCommit} (measured on ${branch} ${ctx.branchCommit})`;
}

export function renderReport(ctx: ReportContext, runs: readonly ReportRun[]): string {
  const figures = runs.map((r) => r.figures);
  return [
    `canary-operator scale benchmark, ${ctx.date}, ${measuredOn(ctx)}`,
    `control plane: kube-apiserver ${ctx.serverVersion} + etcd (local, audited); Prometheus ${ctx.prometheusVersion}, ${ctx.scrape}`,
    `traffic: ${ctx.traffic}`,
    `releases: ${ctx.releases}`,
    `operator: ${ctx.operator}`,
    '',
    mainTable(figures),
    `RSS growth: ${growthLine(figures)} (goal <= 20 KiB)`,
    '',
    ...runs.map((r) => details(r.figures, r.replay, r.profile, r.heap)),
  ].join('\n');
}
