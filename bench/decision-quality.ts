// How good the release decisions are: thousands of seeded simulated releases
// (no Prometheus) through the project's gates as they run today and through
// the sequential gates, with false rollbacks on healthy canaries, detections
// of bad ones (how fast, after how many canary requests), and releases left
// inconclusive. Prints tables and the goals beside the figures; not a test.
// Every row runs through the operator's own rules (judge/gates-judge.ts).
//   npm run bench:judge            (full: 200 releases per kind and traffic level)
//   npm run bench:judge -- --quick (12 per kind and level)
//   npm run bench:judge -- --tune  (adds the variants the sequential defaults were chosen from)
//   npm run bench:judge -- --readme (full, with the variants; writes the README's table between its markers)
import type { AnalysisSpec, Gate } from '../src/api/analysis-spec.js';
import type { AnalysisPlan } from '../src/core/plan.js';
import { driveRelease, type ReleaseOutcome } from './judge/drive-release.js';
import { analysisPlanOf, gatesJudge } from './judge/gates-judge.js';
import { quantile, share, summarize } from './judge/outcome-summary.js';
import { writeReadmeBlock } from './judge/readme-block.js';
import type { ReleaseJudge } from './judge/release-judge.js';
import { RELEASE_PLAN } from './judge/release-plan.js';
import { CANARY_KINDS, TRAFFIC_LEVELS, drawScenario } from './judge/release-scenario.js';
import { SLOT_MS } from './judge/simulated-traffic.js';
import { count, pct, secs, textTable } from './judge/text-table.js';

const toReadme = process.argv.includes('--readme');
const quick = process.argv.includes('--quick') && !toReadme;
const tune = process.argv.includes('--tune') || toReadme;
const REPS = quick ? 12 : 200;

interface Row {
  name: string;
  judge: () => ReleaseJudge;
}

const ERRORS_MAX: Gate = { name: 'errors', errorRate: { max: '1%' } };
const VS_STABLE: Gate = { name: 'vs-stable', errorRate: { maxIncreaseOverStable: '0.5%' } };
const P99: Gate = { name: 'p99', latency: { percentile: 99, maxMs: 500 } };
/** The sequential gates with every default: the spec says only what to compare. */
const SEQ_ERRORS: Gate = { name: 'errors-vs-stable', sequential: { errorRate: {} } };
const SEQ_P99: Gate = { name: 'p99-vs-stable', sequential: { latency: { percentile: 99 } } };
const seqErrors = (s: NonNullable<Gate['sequential']>): Gate => ({ name: 'errors-vs-stable', sequential: { errorRate: {}, ...s } });
// Today's defaults: minRequests 50, failureLimit 3, interval 30s, window 1m, inconclusiveTimeout 30m.
const spec = (gates: Gate[]): AnalysisSpec => ({ gates });
const row = (name: string, gates: Gate[], tuned?: (p: AnalysisPlan) => AnalysisPlan): Row =>
  ({ name, judge: () => gatesJudge(spec(gates), RELEASE_PLAN.intervalMs, RELEASE_PLAN.windowMs, tuned) });
/** The sequential constants the spec does not expose, changed for a tuning row. */
const withSequential = (change: Partial<AnalysisPlan['sequential'][number]>) => (p: AnalysisPlan): AnalysisPlan =>
  ({ ...p, sequential: p.sequential.map((g) => ({ ...g, ...change })) });

const DEFAULTS = analysisPlanOf(spec([SEQ_ERRORS, SEQ_P99]), RELEASE_PLAN.intervalMs, RELEASE_PLAN.windowMs);
const ERR_DEFAULT = DEFAULTS.sequential[0] as AnalysisPlan['sequential'][number];
const P99_DEFAULT = DEFAULTS.sequential[1] as AnalysisPlan['sequential'][number];
const DEFAULT_ERRORS_ROW = 'today: errorRate max 1%';
const SEQ_ERRORS_ROW = `sequential errors x${ERR_DEFAULT.maxRatio}`;
/** The README's earlier example: three windowed gates. */
const TRIO_ROW = 'today: errors 1% + p99 500ms + stable+0.5%';
/** The README's example: the sequential errors and p99 gates with their defaults. */
const README_ROW = 'README example: sequential errors + p99';
const ROWS: Row[] = [
  row(DEFAULT_ERRORS_ROW, [ERRORS_MAX]),
  row('today: errorRate stable+0.5%', [VS_STABLE]),
  row('today: p99 maxMs 500', [P99]),
  row(TRIO_ROW, [ERRORS_MAX, P99, VS_STABLE]),
  row(SEQ_ERRORS_ROW, [SEQ_ERRORS]),
  row(`sequential p99 x${P99_DEFAULT.maxRatio}`, [SEQ_P99]),
  row(README_ROW, [SEQ_ERRORS, SEQ_P99]),
  ...(tune
    ? [
        row('tune: errors x1', [seqErrors({ errorRate: { maxRatioOverStable: 1 } })]),
        row('tune: errors x1.5', [seqErrors({ errorRate: { maxRatioOverStable: 1.5 } })]),
        row('tune: errors x2', [seqErrors({ errorRate: { maxRatioOverStable: 2 } })]),
        row('tune: errors passRatio x1.25', [SEQ_ERRORS], withSequential({ passRatio: ERR_DEFAULT.maxRatio * 1.25 })),
        row('tune: errors passRatio x2', [SEQ_ERRORS], withSequential({ passRatio: ERR_DEFAULT.maxRatio * 2 })),
        row('tune: errors holdAbove 1', [SEQ_ERRORS], withSequential({ holdAbove: 1 })),
        row('tune: errors holdAbove 10', [SEQ_ERRORS], withSequential({ holdAbove: 10 })),
        row('tune: errors minRequests 10', [seqErrors({ errorRate: {}, minRequests: 10 })]),
        row('tune: errors minRequests 50', [seqErrors({ errorRate: {}, minRequests: 50 })]),
        row('tune: errors minRequests 100', [seqErrors({ errorRate: {}, minRequests: 100 })]),
        row('tune: errors falseRollbackRate 5%', [seqErrors({ errorRate: {}, falseRollbackRate: '5%' })]),
        row('tune: p99 x1.5', [{ name: 'p99-vs-stable', sequential: { latency: { percentile: 99, maxRatioOverStable: 1.5 } } }]),
        row('tune: p99 x2', [{ name: 'p99-vs-stable', sequential: { latency: { percentile: 99, maxRatioOverStable: 2 } } }]),
      ]
    : []),
];

interface Run {
  level: number;
  /** The service's stable 5xx per minute before noise and bursts: how much an error comparison has to go on. */
  errorsPerMinute: number;
  outcome: ReleaseOutcome;
}

const slots = Math.ceil(RELEASE_PLAN.deadlineMs / SLOT_MS) + 1;
/** One world per (traffic level, repetition), shared by every canary kind and every row. */
const seedOf = (level: number, rep: number) => ((level * 104729 + rep) * 2654435761) >>> 0;

const started = process.hrtime.bigint();
/** results[row][kind] lists every release in the same order for every row: the same seeds, the same worlds. */
const results: Run[][][] = ROWS.map((row) =>
  CANARY_KINDS.map((kind) =>
    TRAFFIC_LEVELS.flatMap((level, l) =>
      Array.from({ length: REPS }, (_, rep) => {
        const scenario = drawScenario(seedOf(l, rep), level, kind, slots);
        return { level, errorsPerMinute: level * 60 * scenario.stableErrorRate, outcome: driveRelease(scenario, RELEASE_PLAN, row.judge()) };
      }))));
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;

const rowIndex = (name: string) => ROWS.findIndex((r) => r.name === name);
const kindIndex = (name: string) => CANARY_KINDS.findIndex((k) => k.name === name);
const runsOf = (row: number, kind: string, keep: (r: Run) => boolean = () => true) =>
  (results[row]?.[kindIndex(kind)] ?? []).filter(keep).map((r) => r.outcome);
const atLevel = (level: number) => (r: Run) => r.level === level;
const rate = (os: ReleaseOutcome[], result: ReleaseOutcome['result']) => share(os.filter((o) => o.result === result).length, os.length);

const out: string[] = [];
const say = (s = '') => out.push(s);
const perCell = REPS * TRAFFIC_LEVELS.length;
say(`Decision quality: ${perCell} simulated releases per canary kind and gate configuration (${REPS} at each of ${TRAFFIC_LEVELS.join(', ')} requests/s), ${ROWS.length * CANARY_KINDS.length * perCell} in all, seeded.`);
say(`Plan: steps ${RELEASE_PLAN.steps.map((s) => `${s.weight}%${s.durationMs ? ` ${s.durationMs / 60_000}m` : ''}`).join(' / ')}, interval ${RELEASE_PLAN.intervalMs / 1000}s, window ${RELEASE_PLAN.windowMs / 1000}s, release ends inconclusive after ${RELEASE_PLAN.deadlineMs / 60_000}m.`);
say(`Stable 5xx 0-5% (log-uniform from 0.01%; 10% of healthy and latency releases at 0) with per-slot noise and shared bursts; stable p99 20-400ms, p50 = p99/2.5..8; Istio's default buckets.`);
say(`Today's gates with today's defaults (minRequests 50, failureLimit 3, inconclusiveTimeout 30m). Sequential gates with theirs: falseRollbackRate ${pct(ERR_DEFAULT.falseRollbackRate)} per release (shared by the gates of a row), earlyPassErrorRate ${ERR_DEFAULT.earlyPassErrorRate}, minRequests ${ERR_DEFAULT.minRequests}, holdAbove ${ERR_DEFAULT.holdAbove}; errors x${ERR_DEFAULT.maxRatio}, p99 slow share x${P99_DEFAULT.maxRatio}.`);
say();
say('Healthy canaries (false rollback = rolled back by a gate; inconclusive = a hold ran out, or still running at the end):');
say(textTable(['gates', 'false rollback', 'promoted', 'inconclusive', 'median time to promote'],
  ROWS.map((row, r) => {
    const os = runsOf(r, 'healthy');
    return [row.name, pct(rate(os, 'rolledBack')), pct(rate(os, 'promoted')), pct(rate(os, 'inconclusive')), secs(summarize(os).medianSecondsToPromote)];
  })));
say();
say('Bad canaries (caught = rolled back; time and canary requests counted from the first canary traffic to the rollback):');
const badRows: string[][] = [];
for (const kind of CANARY_KINDS.filter((k) => k.name !== 'healthy')) {
  ROWS.forEach((row, r) => {
    const s = summarize(runsOf(r, kind.name));
    badRows.push([kind.name, row.name, pct(share(s.rolledBack, s.releases)), secs(s.medianSeconds), secs(s.p90Seconds), count(s.medianCanaryRequests), count(s.p90CanaryRequests),
      pct(share(s.promoted, s.releases)), pct(share(s.inconclusive, s.releases))]);
  });
}
say(textTable(['canary', 'gates', 'caught', 'median t', 'p90 t', 'median canary req', 'p90 canary req', 'promoted', 'inconclusive'], badRows));
say();
say('By traffic level (requests per second of the whole service):');
const levelTable = (title: string, kind: string, result: ReleaseOutcome['result']) => {
  say(`${title}:`);
  say(textTable(['gates', ...TRAFFIC_LEVELS.map(String)], ROWS.map((row, r) => [row.name, ...TRAFFIC_LEVELS.map((l) => pct(rate(runsOf(r, kind, atLevel(l)), result)))])));
  say();
};
levelTable('healthy: false rollback', 'healthy', 'rolledBack');
levelTable('healthy: inconclusive', 'healthy', 'inconclusive');
levelTable('errors 2x: caught', 'errors 2x', 'rolledBack');
levelTable('errors 5x: caught', 'errors 5x', 'rolledBack');
levelTable('p99 +50%: caught', 'p99 +50%', 'rolledBack');

const BANDS: [number, number][] = [[0, 1], [1, 10], [10, 100], [100, Number.POSITIVE_INFINITY]];
const inBand = ([lo, hi]: [number, number]) => (r: Run) => r.errorsPerMinute >= lo && r.errorsPerMinute < hi;
const bandName = ([lo, hi]: [number, number]) => (hi === Number.POSITIVE_INFINITY ? `>=${lo}` : `${lo}-${hi}`);
say('By the service\'s stable 5xx per minute (requests/s x 60 x stable error rate: what an error comparison has to go on):');
for (const kind of ['errors 2x', 'errors 5x']) {
  say(`${kind}: caught:`);
  say(textTable(['gates', ...BANDS.map(bandName)], ROWS.map((row, r) => [row.name, ...BANDS.map((b) => pct(rate(runsOf(r, kind, inBand(b)), 'rolledBack')))])));
  say();
}

// Paired: the same world (seed) for every row and kind. "Fair" keeps the worlds where today's
// gate tells the canaries apart: it catches the bad one and promotes the healthy one.
const defaultRow = rowIndex(DEFAULT_ERRORS_ROW);
const pairedRatio = (row: number, kind: string, fair: boolean) => {
  const mine = results[row]?.[kindIndex(kind)] ?? [];
  const todays = results[defaultRow]?.[kindIndex(kind)] ?? [];
  const todaysHealthy = results[defaultRow]?.[kindIndex('healthy')] ?? [];
  const ratios = mine.flatMap((m, i) => {
    const d = todays[i];
    const h = todaysHealthy[i];
    if (m.outcome.result !== 'rolledBack' || d?.outcome.result !== 'rolledBack' || !(d.outcome.canaryRequests > 0)) return [];
    if (fair && (h?.outcome.result !== 'promoted' || h.errorsPerMinute !== m.errorsPerMinute)) return [];
    return [m.outcome.canaryRequests / d.outcome.canaryRequests];
  });
  return { median: quantile(ratios, 0.5), n: ratios.length };
};
const errorKinds = CANARY_KINDS.filter((k) => k.errorRatio > 1);
const ratioCell = (p: { median: number; n: number }) => (p.n === 0 ? '-' : `${p.median.toFixed(2)} (n=${p.n})`);
say(`Canary requests to catch the same bad canary in the same world, relative to "${DEFAULT_ERRORS_ROW}" (median of per-release ratios):`);
say('  all: worlds where both caught it; fair: of those, the worlds where today\'s gate also promoted the healthy canary');
say(textTable(['gates', ...errorKinds.flatMap((k) => [`${k.name}: all`, 'fair'])],
  ROWS.map((row, r) => [row.name, ...errorKinds.flatMap((k) => [ratioCell(pairedRatio(r, k.name, false)), ratioCell(pairedRatio(r, k.name, true))])])));
say();

const trio = rowIndex(TRIO_ROW);
const p99Today = rowIndex('today: p99 maxMs 500');
const seqRows = ROWS.map((row, r) => ({ row, r })).filter(({ row }) => row.name.startsWith('sequential') || row.name === README_ROW);
const caught = (r: number, kind: string, keep?: (x: Run) => boolean) => pct(rate(runsOf(r, kind, keep), 'rolledBack'));
const atLeast = (level: number) => (x: Run) => x.level >= level;
say('Goals (figures of the default rows):');
const goal = (text: string, figures: string[]) => say(`  ${text}\n${figures.map((f) => `      ${f}`).join('\n')}`);
goal('false rollbacks on healthy canaries <= 1% over a whole release', [
  ...seqRows.map(({ row, r }) => `${row.name}: ${pct(rate(runsOf(r, 'healthy'), 'rolledBack'))}${row.name.includes('errors')
    ? ` (a canary at the ${ERR_DEFAULT.maxRatio}x error tolerance: ${pct(rate(runsOf(r, 'errors 1.2x (tolerated)'), 'rolledBack'))})` : ''}`),
  `today's trio (the README's earlier example): ${pct(rate(runsOf(trio, 'healthy'), 'rolledBack'))}`]);
goal('errors 2x caught in >= 99% of releases, with <= half the canary requests of today\'s errorRate gate', [
  ...seqRows.filter(({ row }) => row.name.includes('errors')).map(({ row, r }) =>
    `${row.name}: caught ${caught(r, 'errors 2x')} of all; ${caught(r, 'errors 2x', inBand([100, Number.POSITIVE_INFINITY]))} at >= 100 stable 5xx/min; ${caught(r, 'errors 2x', atLeast(100))} at >= 100 req/s; canary requests x${pairedRatio(r, 'errors 2x', false).median.toFixed(2)} of today's where both caught it, x${pairedRatio(r, 'errors 2x', true).median.toFixed(2)} where today's also promoted the healthy one`),
  `${DEFAULT_ERRORS_ROW}: caught ${caught(defaultRow, 'errors 2x')} of all; ${caught(defaultRow, 'errors 2x', inBand([100, Number.POSITIVE_INFINITY]))} at >= 100 stable 5xx/min`]);
goal('p99 +50% caught in >= 95%', [
  ...seqRows.filter(({ row }) => row.name.includes('p99')).map(({ row, r }) => `${row.name}: ${caught(r, 'p99 +50%')} of all; ${caught(r, 'p99 +50%', atLeast(20))} at >= 20 req/s; ${caught(r, 'p99 +50%', atLeast(100))} at >= 100 req/s`),
  `today's p99 maxMs 500: ${caught(p99Today, 'p99 +50%')} of all`]);
const oneRps = atLevel(1);
const oneRpsErrors = (x: Run) => x.level === 1 && x.errorsPerMinute >= 0.6;
goal('at 1 request/s: errors 5x caught before the end, healthy not rolled back', [
  ...seqRows.map(({ row, r }) => `${row.name}: 5x caught ${caught(r, 'errors 5x', oneRps)} (${caught(r, 'errors 5x', oneRpsErrors)} where stable has >= 1% errors); healthy rolled back ${pct(rate(runsOf(r, 'healthy', oneRps), 'rolledBack'))}, inconclusive ${pct(rate(runsOf(r, 'healthy', oneRps), 'inconclusive'))}`),
  `today's trio (the README's earlier example): 5x caught ${caught(trio, 'errors 5x', oneRps)}; healthy rolled back ${pct(rate(runsOf(trio, 'healthy', oneRps), 'rolledBack'))}, inconclusive ${pct(rate(runsOf(trio, 'healthy', oneRps), 'inconclusive'))}`]);
const goals = out.splice(out.indexOf('Goals (figures of the default rows):'));

// One line per configuration with the figures the goals and the defaults were judged on.
const bands100 = inBand([100, Number.POSITIVE_INFINITY]);
const summary = textTable(
  ['gates', 'healthy rolled back', '1.2x rolled back', 'healthy inconclusive', 'median to promote', '2x caught', '2x at >=100 5xx/min', '2x canary req vs today', '5x at 1 req/s', 'p99+50% caught', 'p99+50% at >=20 req/s'],
  ROWS.map((row, r) => {
    const healthy = runsOf(r, 'healthy');
    const ratio = pairedRatio(r, 'errors 2x', true);
    return [row.name, pct(rate(healthy, 'rolledBack')), caught(r, 'errors 1.2x (tolerated)'), pct(rate(healthy, 'inconclusive')), secs(summarize(healthy).medianSecondsToPromote),
      caught(r, 'errors 2x'), caught(r, 'errors 2x', bands100), ratio.n === 0 ? '-' : `x${ratio.median.toFixed(2)}`, caught(r, 'errors 5x', oneRps),
      caught(r, 'p99 +50%'), caught(r, 'p99 +50%', atLeast(20))];
  }));
const intro = out.slice(0, 4);
say('Summary (2x canary requests vs today: median ratio where both caught it and today\'s gate promoted the healthy canary of the same world):');
say(summary);
say();
out.push(...goals);
process.stdout.write(`${out.join('\n')}\n\n(${elapsed.toFixed(0)}s of simulation)\n`);

if (toReadme) {
  const details = out.slice(4, out.indexOf('Summary (2x canary requests vs today: median ratio where both caught it and today\'s gate promoted the healthy canary of the same world):'));
  writeReadmeBlock(new URL('../../README.md', import.meta.url).pathname, 'bench:judge', [
    'Made by `npm run bench:judge -- --readme` (seeded: the same code gives the same figures).',
    '',
    '```text',
    ...intro, '', summary, '', ...goals,
    '```',
    '',
    '<details><summary>All tables</summary>',
    '',
    '```text',
    ...details,
    '```',
    '',
    '</details>',
  ].join('\n'));
  process.stdout.write('README.md: the bench:judge block rewritten\n');
}
