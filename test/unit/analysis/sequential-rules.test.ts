// The sequential gates as recordRound, evidenceAllowsAdvance, roundDue and
// countingFor apply them: fail at once, pass early on evidence, restart the
// evidence for the canary with each step, and go on from status alone.
// Evidence values quoted below were computed with src/analysis/sequential
// (ratio-evidence.test.ts checks that module against an independent table).
import { describe, expect, test } from '@jest/globals';
import type { Gate } from '../../../src/api/analysis-spec.js';
import { GateVerdict, type AnalysisStatus } from '../../../src/api/analysis-status.js';
import { Reason } from '../../../src/api/conditions.js';
import { CanaryReleaseStatusSchema, type CanaryReleaseStatus } from '../../../src/api/status.js';
import type { SequentialMeasurements } from '../../../src/analysis/measurements.js';
import { lnEvidenceAgainst, newEvidence, updateEvidence, type SequentialEvidence } from '../../../src/analysis/sequential/ratio-evidence.js';
import type { BucketCount } from '../../../src/analysis/sequential/slow-requests.js';
import { evidenceAllowsAdvance, holdMessage, recordRound, roundDue, type AnalysisRound, type RoundOutcome, type StepClock } from '../../../src/core/analysis-rules.js';
import { countingFor } from '../../../src/core/sequential-counting.js';
import { at, iso, progressing } from '../release-fixtures.js';
import { SUBSETS, analysisPlan, analysisSpec, measured, ok, roundOf, sequentialRound } from './analysis-fixtures.js';

const SEQ: Gate = { name: 'errors-vs-stable', sequential: { errorRate: {} } };
const PLAN = analysisPlan([SEQ]);
type Counts = [errors: number, requests: number];

/** A batch (from, to] (seconds from NOW) with these [5xx, requests] of the canary and stable. */
const batch = (from: number, to: number, canary: Counts, stable: Counts, more: Partial<SequentialMeasurements> = {}) =>
  sequentialRound(from, to, canary, stable, { queries: { 'errors-vs-stable': 'the batch query' }, ...more });
const STEP0: StepClock = { startedAt: iso(0), timeIsUp: false };
const UP0: StepClock = { startedAt: iso(0), timeIsUp: true };

/** Rounds through recordRound one after another, as decide does; each with its step clock. */
function play(rounds: [AnalysisRound, StepClock][], plan = PLAN, start?: AnalysisStatus): RoundOutcome[] {
  let prev = start;
  return rounds.map(([r, step]) => {
    const out = recordRound(plan, prev, r, SUBSETS, step);
    prev = out.analysis;
    return out;
  });
}
const last = <T>(xs: T[]): T => xs[xs.length - 1] as T;
const evidenceOf = (o: RoundOutcome, gate = 'errors-vs-stable') => o.analysis.sequential?.gates[gate]?.evidence;

describe('a sequential gate fails at once', () => {
  test('on the first round whose evidence against reaches 1/falseRollbackRate, whatever failureLimit says (3 by default)', () => {
    const [o] = play([[batch(0, 30, [17, 67], [31, 2210]), STEP0]]);
    expect(o?.analysis).toMatchObject({ verdict: GateVerdict.Fail, consecutiveFailures: 1 });
    const why = "canary error rate 18x stable's, 17 of 67 vs 31 of 2,210; evidence 2.7e10 against reached the bound of 100";
    expect(o?.end).toEqual({ kind: 'failed', reason: Reason.AnalysisFailed, message: why });
    // The end's AnalysisFailed Event gives the evidence; no GateFailed beside it.
    expect(o?.events).toEqual([]);
    expect(o?.analysis.gates).toEqual([expect.objectContaining({
      name: 'errors-vs-stable', verdict: GateVerdict.Fail, value: 25.37, stableValue: 1.4, query: 'the batch query',
      threshold: "<= 1.2x stable's 5xx share; false rollbacks <= 1%",
    })]);
  });

  test('the bound is 1/falseRollbackRate of the gate: 2x errors on 2,000 canary requests (evidence 11) fail at 10%, not at 1%', () => {
    const round = batch(0, 30, [40, 2000], [180, 18000]);
    expect(play([[round, STEP0]])[0]?.end).toBeUndefined();
    const lenient = analysisPlan([{ name: 'errors-vs-stable', sequential: { errorRate: {}, falseRollbackRate: '10%' } }]);
    expect(play([[round, STEP0]], lenient)[0]?.end?.kind).toBe('failed');
  });

  test('a windowed gate beside it still fails only after failureLimit rounds', () => {
    const plan = analysisPlan([{ name: 'errors', errorRate: { max: '1%' } }, SEQ]);
    const windowedFail = roundOf(analysisSpec([{ name: 'errors', errorRate: { max: '1%' } }, SEQ]), measured({ canary: { total: 100, errors: 20 } }), at(30));
    const round = { ...windowedFail, sequential: batch(0, 30, [1, 100], [10, 1000]).sequential };
    const [o] = play([[round, STEP0]], plan);
    expect(o?.analysis.verdict).toBe(GateVerdict.Fail);
    expect(o?.analysis.gates.map((g) => [g.name, g.verdict])).toEqual([['errors', GateVerdict.Fail], ['errors-vs-stable', GateVerdict.Judging]]);
    expect(o?.end).toBeUndefined();
  });
});

describe('while the step runs, a gate without a verdict is Judging', () => {
  test('no clock starts, an Event says so once, and the hold message gives the evidence in plain words', () => {
    const outs = play([[batch(0, 30, [3, 300], [27, 2700]), STEP0], [batch(30, 60, [0, 0], [0, 0]), STEP0]]);
    const o = last(outs);
    expect(o.analysis).toMatchObject({ verdict: GateVerdict.Judging, consecutiveFailures: 0 });
    expect(o.analysis.inconclusiveSince).toBeUndefined();
    expect(outs.map((x) => x.events.map((e) => e.reason))).toEqual([[Reason.Judging], []]);
    const st: CanaryReleaseStatus = progressing(1, 10, iso(0), { measureFrom: iso(0), analysis: o.analysis });
    expect(holdMessage(st, PLAN, at(61))).toBe(
      `judging: canary error rate 1.0x stable's, 3 of 300 vs 27 of 2,700; evidence 0.25 against a bound of 100; next round due at ${iso(90)}`);
  });

  test('a Judging round lets no step end, early or on time', () => {
    const [o] = play([[batch(0, 30, [3, 300], [27, 2700]), STEP0]]);
    const st = progressing(1, 10, iso(0), { measureFrom: iso(0), analysis: o?.analysis });
    expect(evidenceAllowsAdvance(st, at(31), true)).toBe(false);
    expect(evidenceAllowsAdvance(st, at(31))).toBe(false);
  });
});

describe('when the step\'s time is up', () => {
  test('with minRequests at this step and no evidence against the canary, it passes', () => {
    const [o] = play([[batch(0, 60, [3, 300], [27, 2700]), UP0]]);
    expect(o?.analysis.verdict).toBe(GateVerdict.Pass);
    expect(evidenceAllowsAdvance(progressing(1, 10, iso(0), { measureFrom: iso(0), analysis: o?.analysis }), at(61))).toBe(true);
  });

  test('with too few canary requests it is Inconclusive, and ends without a verdict after inconclusiveTimeout (30m)', () => {
    const outs = play([[batch(0, 60, [0, 10], [1, 90]), UP0], [batch(60, 1860, [0, 0], [0, 0]), UP0]]);
    expect(outs[0]?.analysis).toMatchObject({ verdict: GateVerdict.Inconclusive, inconclusiveSince: iso(60) });
    expect(outs[0]?.analysis.gates[0]?.message).toContain('holding: 10 canary requests at this step (need 25)');
    expect(last(outs).end).toMatchObject({ kind: 'no-verdict', reason: Reason.AnalysisInconclusive });
  });
});

describe('an early pass', () => {
  // Canary 0.5% vs stable 1% on 10,000 and 90,000 requests: evidence for 4.2e9, against 1.1e-8.
  const strong = batch(0, 30, [50, 10_000], [900, 90_000]);

  test('passes the gate before the step\'s time is up, and the evidence lets the step end early', () => {
    const [o] = play([[strong, STEP0]]);
    expect(o?.analysis.verdict).toBe(GateVerdict.Pass);
    expect(o?.analysis.gates[0]?.message).toBe("canary error rate 0.5x stable's, 50 of 10,000 vs 900 of 90,000; evidence 4.2e9 for reached the bound of 20: passes early");
    // A first pass is no Event of its own: the step it ends says so (decide-sequential.test.ts).
    expect(o?.events).toEqual([]);
    expect(evidenceAllowsAdvance(progressing(1, 10, iso(0), { measureFrom: iso(0), analysis: o?.analysis }), at(31), true)).toBe(true);
  });

  test('needs minRequests canary requests at this step, however strong the evidence', () => {
    const plan = analysisPlan([{ name: 'errors-vs-stable', sequential: { errorRate: {}, minRequests: 20_000 } }]);
    expect(play([[strong, STEP0]], plan)[0]?.analysis.verdict).toBe(GateVerdict.Judging);
  });

  test('is not had from windowed gates: their passing rounds end a step only when its time is up', () => {
    const spec = analysisSpec([{ name: 'errors', errorRate: { max: '1%' } }]);
    const o = recordRound(analysisPlan(spec.gates), undefined, roundOf(spec, measured(), at(90)), SUBSETS);
    const st = progressing(1, 10, iso(0), { measureFrom: iso(0), analysis: o.analysis });
    expect(evidenceAllowsAdvance(st, at(91), true)).toBe(false);
    expect(evidenceAllowsAdvance(st, at(91))).toBe(true);
  });

  test('is no evidence for a later step: the step that began since must earn its own', () => {
    const [o] = play([[strong, STEP0]]);
    const st = progressing(2, 50, iso(31), { measureFrom: iso(0), analysis: o?.analysis });
    expect(evidenceAllowsAdvance(st, at(40), true)).toBe(false);
  });
});

describe('the evidence restarts with each step', () => {
  test('the evidence for the canary and the step\'s counts start afresh; the evidence against carries on over the release', () => {
    const step2: StepClock = { startedAt: iso(61), timeIsUp: false };
    const outs = play([[batch(0, 60, [20, 1000], [90, 9000]), UP0], [batch(61, 90, [20, 1000], [90, 9000]), step2]]);
    const first = evidenceOf(outs[0] as RoundOutcome);
    const second = evidenceOf(last(outs));
    expect(second?.step).toEqual({ canaryRequests: 1000, canaryEvents: 20, stableRequests: 9000, stableEvents: 90 });
    expect(second?.release).toEqual({ canaryRequests: 2000, canaryEvents: 40, stableRequests: 18000, stableEvents: 180 });
    // Two batches at 2x: evidence against 2.2 after the first, 11 after both (as one batch of the sum would give).
    expect(Math.exp(lnEvidenceAgainst(first as SequentialEvidence))).toBeCloseTo(2.162, 2);
    expect(Math.exp(lnEvidenceAgainst(second as SequentialEvidence))).toBeCloseTo(11.01, 1);
    // The evidence for is the second batch's alone: what a fresh evidence given that batch holds.
    const alone = updateEvidence(newEvidence({ maxRatio: 1.2 }), { canaryRequests: 1000, canaryEvents: 20, stableRequests: 9000, stableEvents: 90 });
    expect(second?.inFavour).toEqual(alone.inFavour);
    expect(last(outs).analysis.sequential?.stepStartedAt).toBe(iso(61));
    expect(last(outs).analysis.gates[0]?.message).toContain("canary error rate 2.0x stable's, 40 of 2,000 vs 180 of 18,000; evidence 11 against a bound of 100");
  });

  test('minRequests counts from the step\'s start: a new step with 20 canary requests holds at its end', () => {
    const step2Up: StepClock = { startedAt: iso(61), timeIsUp: true };
    const outs = play([[batch(0, 60, [3, 300], [27, 2700]), UP0], [batch(61, 120, [0, 20], [2, 180]), step2Up]]);
    expect(outs[0]?.analysis.verdict).toBe(GateVerdict.Pass);
    expect(last(outs).analysis.verdict).toBe(GateVerdict.Inconclusive);
    expect(last(outs).analysis.gates[0]?.message).toContain('holding: 20 canary requests at this step (need 25)');
  });

  test('a spec edit that changes what the gate tests starts its evidence afresh', () => {
    const [o] = play([[batch(0, 30, [20, 1000], [90, 9000]), STEP0]]);
    const edited = analysisPlan([{ name: 'errors-vs-stable', sequential: { errorRate: { maxRatioOverStable: 2 } } }]);
    const next = recordRound(edited, o?.analysis, batch(30, 60, [1, 100], [9, 900]), SUBSETS, STEP0);
    expect(evidenceOf(next)).toMatchObject({ maxRatio: 2, release: { canaryRequests: 100, canaryEvents: 1, stableRequests: 900, stableEvents: 9 } });
  });
});

describe('what a batch counts', () => {
  test('a batch from before the step began (asked for before the step advanced) counts against the canary, not for it at this step', () => {
    const step2: StepClock = { startedAt: iso(61), timeIsUp: false };
    const outs = play([[batch(0, 30, [1, 100], [9, 900]), STEP0], [batch(30, 60, [20, 1000], [90, 9000]), step2]]);
    const e = evidenceOf(last(outs));
    expect(e?.release.canaryRequests).toBe(1100);
    expect(e?.step).toEqual({ canaryRequests: 0, canaryEvents: 0, stableRequests: 0, stableEvents: 0 });
    expect(e?.inFavour.every((x) => x === 0)).toBe(true);
    expect(last(outs).analysis.sequential?.countedUntil).toBe(iso(60));
  });

  test('a batch overlapping what was counted is dropped, and the next one starts where the counting stopped: nothing lost, nothing twice', () => {
    const outs = play([[batch(0, 30, [1, 100], [9, 900]), STEP0], [batch(0, 60, [2, 200], [18, 1800]), STEP0]]);
    expect(evidenceOf(last(outs))?.release.canaryRequests).toBe(100);
    expect(last(outs).analysis.sequential?.countedUntil).toBe(iso(30));
    const st = progressing(1, 10, iso(0), { measureFrom: iso(0), analysis: last(outs).analysis });
    expect(countingFor(PLAN, st, at(90))?.from).toEqual(at(30));
  });

  test('a batch spanning a weight change is dropped (two request shares in one batch)', () => {
    const outs = play([[batch(0, 30, [1, 100], [9, 900]), STEP0], [batch(30, 60, [20, 1000], [90, 9000]), { startedAt: iso(45), timeIsUp: false }]]);
    expect(evidenceOf(last(outs))?.release.canaryRequests).toBe(100);
    expect(last(outs).analysis.sequential?.countedUntil).toBe(iso(60));
  });

  test('metrics that cannot be read: Error, nothing counted, and the next round counts the outage\'s time too', () => {
    const down = batch(30, 60, [0, 0], [0, 0], { requests: { ok: false, message: 'cannot reach Prometheus: ECONNREFUSED' } });
    const outs = play([[batch(0, 30, [1, 100], [9, 900]), STEP0], [down, STEP0]]);
    expect(last(outs).analysis).toMatchObject({ verdict: GateVerdict.Error, errorSince: iso(60) });
    expect(last(outs).analysis.gates[0]?.message).toBe('errors-vs-stable: cannot reach Prometheus: ECONNREFUSED');
    expect(last(outs).analysis.sequential?.countedUntil).toBe(iso(30));
    expect(evidenceOf(last(outs))?.release.canaryRequests).toBe(100);
  });

  test('a round without sequential counts (a shell that did not count them) is an Error, not a pass', () => {
    const [o] = play([[{ ...batch(0, 30, [0, 0], [0, 0]), sequential: undefined }, STEP0]]);
    expect(o?.analysis.verdict).toBe(GateVerdict.Error);
  });
});

describe('a latency gate', () => {
  const P99: Gate = { name: 'p99', sequential: { latency: { percentile: 99 } } };
  const plan = analysisPlan([P99]);
  const buckets = (counts: [number, number][]): BucketCount[] => counts.map(([le, count]) => ({ le, count }));
  // Stable's hour: 10,000 requests, 1.1% above 250ms and 0.3% above 500ms: the boundary nearest p99 is 250.
  const history = buckets([[100, 9000], [250, 9890], [500, 9970], [Number.POSITIVE_INFINITY, 10_000]]);
  const latencyBatch = (from: number, to: number, canary: [number, number][], stable: [number, number][], more: Partial<SequentialMeasurements> = {}): AnalysisRound => ({
    evaluatedAt: at(to), measuredFrom: at(from), results: [], verdict: GateVerdict.Pass,
    sequential: { from: at(from), histograms: ok({ canary: buckets(canary), stable: buckets(stable) }), queries: { p99: 'q' }, ...more },
  });

  test('chooses its boundary from stable\'s history once, keeps it in status, and counts the requests slower than it', () => {
    const outs = play([
      [latencyBatch(0, 30, [[250, 90], [Number.POSITIVE_INFINITY, 100]], [[250, 890], [Number.POSITIVE_INFINITY, 900]], { stableHistory: ok(history) }), STEP0],
      [latencyBatch(30, 60, [[250, 80], [Number.POSITIVE_INFINITY, 100]], [[250, 891], [Number.POSITIVE_INFINITY, 900]]), STEP0],
    ], plan);
    const gate = last(outs).analysis.sequential?.gates.p99;
    expect(gate?.boundaryMs).toBe(250);
    expect(gate?.evidence.release).toEqual({ canaryRequests: 200, canaryEvents: 30, stableRequests: 1800, stableEvents: 19 });
    expect(last(outs).analysis.gates[0]).toMatchObject({ verdict: GateVerdict.Fail, threshold: "<= 1.2x stable's share slower than 250ms; false rollbacks <= 1%" });
    expect(last(outs).analysis.gates[0]?.message).toMatch(/^canary share of requests slower than 250ms 14x stable's, 30 of 200 vs 19 of 1,800; evidence .* against reached the bound of 100$/);
  });

  test('while stable\'s history is too thin to place the percentile, it counts nothing and says why', () => {
    const thin = buckets([[250, 40], [Number.POSITIVE_INFINITY, 40]]);
    const [o] = play([[latencyBatch(0, 30, [[250, 9], [Number.POSITIVE_INFINITY, 10]], [[250, 90], [Number.POSITIVE_INFINITY, 90]], { stableHistory: ok(thin) }), STEP0]], plan);
    expect(o?.analysis.verdict).toBe(GateVerdict.Judging);
    expect(o?.analysis.gates[0]?.message).toBe(`no latency boundary yet: stable had 40 requests in the hour before ${iso(0)} (p99 needs at least 100, some slower than a bucket boundary)`);
    expect(o?.analysis.sequential?.gates.p99?.evidence.release.canaryRequests).toBe(0);
  });

  test('a boundary set in the spec needs no history', () => {
    const fixed = analysisPlan([{ name: 'p99', sequential: { latency: { percentile: 99, boundaryMs: 500 } } }]);
    const [o] = play([[latencyBatch(0, 30, [[500, 99], [Number.POSITIVE_INFINITY, 100]], [[500, 897], [Number.POSITIVE_INFINITY, 900]]), STEP0]], fixed);
    expect(o?.analysis.sequential?.gates.p99).toMatchObject({ boundaryMs: 500, evidence: { release: { canaryEvents: 1, stableEvents: 3 } } });
  });
});

describe('restart safety: status alone suffices', () => {
  const rounds: [AnalysisRound, StepClock][] = [
    [batch(0, 30, [2, 100], [9, 900]), STEP0],
    [batch(30, 60, [3, 100], [9, 900]), UP0],
    [batch(61, 90, [4, 500], [40, 4500]), { startedAt: iso(61), timeIsUp: false }],
    [batch(90, 120, [9, 500], [40, 4500]), { startedAt: iso(61), timeIsUp: false }],
  ];

  test('a status written, read back through its schema and judged by a new process decides exactly as one process would', () => {
    const straight = play(rounds);
    let prev: AnalysisStatus | undefined;
    const restarted = rounds.map(([r, step]) => {
      // Every round in a "new operator": only what the API server stored survives.
      const stored = CanaryReleaseStatusSchema.parse(JSON.parse(JSON.stringify({ analysis: prev })));
      const out = recordRound(PLAN, stored.analysis, r, SUBSETS, step);
      prev = out.analysis;
      return out;
    });
    expect(restarted).toEqual(straight);
  });

  test('the next batch starts where status says the counting stopped', () => {
    const st = progressing(2, 50, iso(61), { measureFrom: iso(0), analysis: last(play(rounds)).analysis });
    const stored = CanaryReleaseStatusSchema.parse(JSON.parse(JSON.stringify(st)));
    expect(countingFor(PLAN, stored, at(150))?.from).toEqual(at(120));
  });
});

describe('countingFor: where the next batch starts', () => {
  const st = (extra: Partial<CanaryReleaseStatus> = {}) => progressing(1, 10, iso(0), { measureFrom: iso(0), ...extra });
  const counted = (until: string, evaluatedAt = until): AnalysisStatus =>
    ({ evaluatedAt, verdict: GateVerdict.Judging, consecutiveFailures: 0, gates: [], sequential: { countedUntil: until, stepStartedAt: iso(0), gates: {} } });

  test('undefined without sequential gates', () => {
    expect(countingFor(analysisPlan([{ name: 'errors', errorRate: { max: '1%' } }]), st(), at(30))).toBeUndefined();
  });
  test('the first batch starts at the canary\'s first traffic (measureFrom)', () => {
    expect(countingFor(PLAN, st(), at(30))?.from).toEqual(at(0));
  });
  test('a new step starts its own batch when its traffic moved, not where the last step\'s counting stopped', () => {
    expect(countingFor(PLAN, st({ stepStartedAt: iso(62), analysis: counted(iso(60)) }), at(90))?.from).toEqual(at(62));
  });
  test('a round due from before the step began counts on from the last batch (it belongs to the step before)', () => {
    expect(countingFor(PLAN, st({ stepStartedAt: iso(62), analysis: counted(iso(30)) }), at(60))?.from).toEqual(at(30));
  });
  test('never from after the last round\'s evaluation time (a fast clock wrote countedUntil)', () => {
    expect(countingFor(PLAN, st({ analysis: counted(iso(3600), iso(30)) }), at(60))?.from).toEqual(at(30));
  });
  test('hands over the latency boundaries kept in status, and those set in the spec', () => {
    const plan = analysisPlan([{ name: 'a', sequential: { latency: { percentile: 99 } } }, { name: 'b', sequential: { latency: { percentile: 99, boundaryMs: 500 } } }]);
    const analysis = { ...counted(iso(30)), sequential: { countedUntil: iso(30), gates: { a: { kind: 'slow' as const, percentile: 99, boundaryMs: 250, evidence: { maxRatio: 1.2, passRatio: 1.2, against: [], inFavour: [], release: { canaryRequests: 0, canaryEvents: 0, stableRequests: 0, stableEvents: 0 }, step: { canaryRequests: 0, canaryEvents: 0, stableRequests: 0, stableEvents: 0 } } } } } };
    expect(countingFor(plan, st({ analysis }), at(60))?.boundariesMs).toEqual({ a: 250, b: 500 });
  });
});

describe('roundDue with sequential gates alone', () => {
  test('the first round is one interval after measureFrom: a batch has no window to fill', () => {
    const st = progressing(1, 10, iso(0), { measureFrom: iso(0) });
    expect(roundDue(PLAN, st, at(29))).toBeUndefined();
    expect(roundDue(PLAN, st, at(30))).toEqual(at(30));
  });
  test('beside a windowed gate, the window rules as before', () => {
    const plan = analysisPlan([{ name: 'errors', errorRate: { max: '1%' } }, SEQ]);
    expect(roundDue(plan, progressing(1, 10, iso(0), { measureFrom: iso(0) }), at(30))).toBeUndefined();
  });
});
