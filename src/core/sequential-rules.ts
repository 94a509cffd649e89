// The sequential gates of one round, as a pure function: add the batch the
// shell counted to the evidence kept in status, and judge each gate.
//
//   fail      the evidence against the canary reached 1/falseRollbackRate:
//             the release ends at once (onFailure), whatever failureLimit says;
//   pass      before the step's time is up only on evidence for the canary
//             (an early pass); at the end also with no evidence against it;
//   continue  Judging while the step's time runs, Inconclusive after it (the
//             inconclusiveTimeout and onInconclusive of the other gates apply).
//
// The evidence against carries on over the whole release, so its bound holds
// for the whole release; the evidence for and the step's counts restart with
// each step (status.stepStartedAt), since the traffic shares change.
import { GateVerdict, type AnalysisStatus, type GateResult, type SequentialGateStatus, type SequentialStatus } from '../api/analysis-status.js';
import type { SequentialMeasurements } from '../analysis/measurements.js';
import { plainNumber as num } from '../analysis/sequential/plain-number.js';
import { newEvidence, startStep, updateEvidence, AGAINST_MULTIPLIERS, FOR_MULTIPLIERS, type EventCounts } from '../analysis/sequential/ratio-evidence.js';
import { judge } from '../analysis/sequential/sequential-judge.js';
import { slowBoundaryMs, slowRequests, type BucketCount } from '../analysis/sequential/slow-requests.js';
import type { AnalysisPlan, SequentialGatePlan } from './plan.js';
import { batchUse, countedUntilOf } from './sequential-counting.js';
import { isoOf, timeOf } from './time.js';

/** Where the round stands in its step. */
export interface StepClock {
  /** status.stepStartedAt: the evidence for the canary restarts when it changes. */
  startedAt: string | undefined;
  /** The step's time was up at the round's evaluation time. */
  timeIsUp: boolean;
}

export interface SequentialOutcome {
  status: SequentialStatus;
  /** One per sequential gate, in the plan's order. */
  results: GateResult[];
  /** A gate's evidence against reached its bound: the canary fails now. */
  failed: boolean;
}

interface Judged {
  gate: SequentialGatePlan;
  state: SequentialGateStatus;
  /** Why this gate has nothing to judge this round (a measurement failed, no boundary yet). */
  unjudged?: { verdict: GateVerdict; message: string };
}

export function judgeSequential(
  plan: AnalysisPlan,
  prev: AnalysisStatus | undefined,
  round: { evaluatedAt: Date; sequential?: SequentialMeasurements | undefined },
  step: StepClock,
): SequentialOutcome {
  const now = round.evaluatedAt;
  const before = prev?.sequential;
  const stepChanged = before?.stepStartedAt !== step.startedAt;
  const gates: Judged[] = plan.sequential.map((gate) => {
    const kept = before?.gates[gate.name];
    const state = kept && fits(kept, gate) ? kept : fresh(gate);
    return { gate, state: stepChanged ? { ...state, evidence: startStep(state.evidence) } : state };
  });

  const m = round.sequential;
  const countedUntil = countedUntilOf(prev, now);
  const use = m ? batchUse(m.from.getTime(), now.getTime(), countedUntil, timeOf(step.startedAt, now)) : undefined;
  const problem = m ? missingMeasurement(gates, m) : 'not measured';
  let counted = countedUntil;
  if (problem !== undefined) {
    // All or nothing: the next round counts from the same place, so an outage loses no batch.
    for (const g of gates) g.unjudged = { verdict: GateVerdict.Error, message: `${g.gate.name}: ${problem}` };
  } else if (m && (use === 'count' || use === 'previous-step')) {
    for (const g of gates) addBatch(g, m, use);
    counted = now.getTime();
  } else if (use === 'straddles-step') {
    counted = now.getTime();
  }

  const results = gates.map((g) => resultOf(g, step, m?.queries[g.gate.name] ?? ''));
  const status: SequentialStatus = {
    ...(counted !== undefined ? { countedUntil: isoOf(counted) } : {}),
    ...(step.startedAt !== undefined ? { stepStartedAt: step.startedAt } : {}),
    gates: Object.fromEntries(gates.map((g) => [g.gate.name, g.state])),
  };
  return { status, results, failed: results.some((r) => r.verdict === GateVerdict.Fail) };
}

/** Evidence kept in status belongs to this gate only if the gate still tests the same thing. */
function fits(s: SequentialGateStatus, g: SequentialGatePlan): boolean {
  const e = s.evidence;
  const shaped = e.against.length === AGAINST_MULTIPLIERS.length && e.inFavour.length === FOR_MULTIPLIERS.length
    && [...e.against, ...e.inFavour].every(Number.isFinite);
  return shaped && s.kind === g.kind && e.maxRatio === g.maxRatio && e.passRatio === g.passRatio
    && s.percentile === g.percentile && (g.boundaryMs === undefined || s.boundaryMs === g.boundaryMs);
}

function fresh(g: SequentialGatePlan): SequentialGateStatus {
  return {
    kind: g.kind,
    ...(g.percentile !== undefined ? { percentile: g.percentile } : {}),
    ...(g.boundaryMs !== undefined ? { boundaryMs: g.boundaryMs } : {}),
    evidence: newEvidence({ maxRatio: g.maxRatio, passRatio: g.passRatio }),
  };
}

/** Why the batch cannot be counted: a measurement some gate needs failed or is missing. */
function missingMeasurement(gates: Judged[], m: SequentialMeasurements): string | undefined {
  const needs = (kind: 'errors' | 'slow') => gates.some((g) => g.gate.kind === kind);
  const failedOf = (x: SequentialMeasurements['requests'] | SequentialMeasurements['histograms'] | SequentialMeasurements['stableHistory']) =>
    x === undefined ? 'not measured' : x.ok ? undefined : x.message;
  if (needs('errors')) {
    const p = failedOf(m.requests);
    if (p) return p;
  }
  if (needs('slow')) {
    const p = failedOf(m.histograms);
    if (p) return p;
  }
  if (gates.some((g) => g.gate.kind === 'slow' && g.state.boundaryMs === undefined)) {
    const p = failedOf(m.stableHistory);
    if (p) return `stable's latency history: ${p}`;
  }
  return undefined;
}

function addBatch(g: Judged, m: SequentialMeasurements, use: 'count' | 'previous-step'): void {
  const counts = g.gate.kind === 'errors' ? errorCounts(m) : slowCounts(g, m);
  if (!counts) return;
  const added = updateEvidence(g.state.evidence, counts);
  // A batch from before this step began is evidence against the canary, not for it at this step.
  g.state = { ...g.state, evidence: use === 'previous-step' ? startStep(added) : added };
}

function errorCounts(m: SequentialMeasurements): EventCounts | undefined {
  if (!m.requests?.ok) return undefined;
  const { canary, stable } = m.requests.value;
  return { canaryRequests: canary.total, canaryEvents: canary.errors, stableRequests: stable.total, stableEvents: stable.errors };
}

/**
 * Requests slower than the gate's boundary. The boundary is chosen once, from
 * stable's hour before the batch (data the test has not counted), and kept.
 */
function slowCounts(g: Judged, m: SequentialMeasurements): EventCounts | undefined {
  const percentile = g.gate.percentile ?? 99;
  if (g.state.boundaryMs === undefined && m.stableHistory?.ok) {
    const chosen = slowBoundaryMs(m.stableHistory.value, percentile);
    if (chosen !== undefined) g.state = { ...g.state, boundaryMs: chosen };
  }
  const boundary = g.state.boundaryMs;
  if (boundary === undefined) {
    const had = m.stableHistory?.ok ? totalOf(m.stableHistory.value) : 0;
    const need = Math.ceil(100 / (100 - percentile));
    g.unjudged = {
      verdict: GateVerdict.Judging,
      message: `no latency boundary yet: stable had ${num(had)} requests in the hour before ${isoOf(m.from.getTime())} (p${percentile} needs at least ${num(need)}, some slower than a bucket boundary)`,
    };
    return undefined;
  }
  if (!m.histograms?.ok) return undefined;
  const canary = slowOrNone(m.histograms.value.canary, boundary);
  const stable = slowOrNone(m.histograms.value.stable, boundary);
  if (!canary || !stable) {
    g.unjudged = { verdict: GateVerdict.Error, message: `${g.gate.name}: the duration histogram has no bucket le="${boundary}"` };
    return undefined;
  }
  return { canaryRequests: canary.requests, canaryEvents: canary.slow, stableRequests: stable.requests, stableEvents: stable.slow };
}

/** A subset without series had no requests. */
function slowOrNone(buckets: readonly BucketCount[], boundary: number): { requests: number; slow: number } | undefined {
  return buckets.length === 0 ? { requests: 0, slow: 0 } : slowRequests(buckets, boundary);
}

const totalOf = (buckets: readonly BucketCount[]) => buckets.find((b) => b.le === Number.POSITIVE_INFINITY)?.count ?? 0;

function resultOf(g: Judged, step: StepClock, query: string): GateResult {
  const { gate, state } = g;
  const c = state.evidence.release;
  const share = (events: number, requests: number) => (requests > 0 ? Math.round((events * 10_000) / requests) / 100 : undefined);
  const value = share(c.canaryEvents, c.canaryRequests);
  const stableValue = share(c.stableEvents, c.stableRequests);
  const base = {
    name: gate.name, query, threshold: thresholdOf(gate, state),
    ...(value !== undefined ? { value } : {}), ...(stableValue !== undefined ? { stableValue } : {}),
  };
  const waiting = step.timeIsUp ? GateVerdict.Inconclusive : GateVerdict.Judging;
  if (g.unjudged) {
    const verdict = g.unjudged.verdict === GateVerdict.Judging ? waiting : g.unjudged.verdict;
    return { ...base, verdict, message: g.unjudged.message };
  }
  const subject = gate.kind === 'errors' ? { kind: 'errors' as const } : { kind: 'slow' as const, boundaryMs: state.boundaryMs ?? Number.POSITIVE_INFINITY };
  const j = judge(state.evidence, {
    falseRollbackRate: gate.falseRollbackRate, earlyPassErrorRate: gate.earlyPassErrorRate, minRequests: gate.minRequests, holdAbove: gate.holdAbove, subject,
  }, { timeIsUp: step.timeIsUp });
  const verdict = j.verdict === 'fail' ? GateVerdict.Fail : j.verdict === 'pass' ? GateVerdict.Pass : waiting;
  return { ...base, verdict, message: j.message };
}

function thresholdOf(g: SequentialGatePlan, s: SequentialGateStatus): string {
  const what = g.kind === 'errors' ? "stable's 5xx share"
    : `stable's share slower than ${s.boundaryMs !== undefined ? `${num(s.boundaryMs)}ms` : `its p${g.percentile}`}`;
  return `<= ${num(g.maxRatio)}x ${what}; false rollbacks <= ${Number((g.falseRollbackRate * 100).toPrecision(3))}%`;
}
