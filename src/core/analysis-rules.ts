// The hold and failure rules of analysis gates, as pure functions: when a
// round is due, what a round's verdict does to the counters, and whether the
// evidence lets a step advance.
//
// A round has an evaluation time t, a multiple of the interval plus the
// release's round offset (plan.ts: the interval's slots, chosen by uid, so a
// boundary is not a burst), and measures the window [t - window, t]. Every
// release with the same interval and offset shares the round (and its
// queries); a result is never older than its round. Two
// rules tie evidence to what it measured:
//   - a round counts at all only when its window starts at or after
//     status.measureFrom (the release start, a retry, a resume), and only once
//     per distinct t: a cached result cannot be counted twice;
//   - a passing round lets a step advance only when its window starts at or
//     after the step began at its weight.
// Sequential gates measure no window: their round counts the batch since the
// last one (sequential-counting.ts), and the round's measuredFrom is where
// that batch began; they are judged here on the evidence kept in status
// (sequential-rules.ts).
import { GateVerdict, worstVerdict, type AnalysisStatus, type GateResult } from '../api/analysis-status.js';
import { Phase, Reason } from '../api/conditions.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { SequentialMeasurements } from '../analysis/measurements.js';
import { formatDuration } from './duration.js';
import type { AnalysisPlan } from './plan.js';
import { judgeSequential, type StepClock } from './sequential-rules.js';
import { isoOf, timeOf } from './time.js';

export type { StepClock } from './sequential-rules.js';

export interface AnalysisRound {
  /** The round's evaluation time t (the end of its window). */
  evaluatedAt: Date;
  /** The start of its window, t - window (for sequential gates alone: the start of their batch). */
  measuredFrom: Date;
  /** The windowed gates' results (sequential gates are judged in recordRound). */
  results: GateResult[];
  verdict: GateVerdict;
  /** The sequential gates' counts over their batch, when the plan has any. */
  sequential?: SequentialMeasurements | undefined;
}

export interface RoundOutcome {
  analysis: AnalysisStatus;
  /** Events to record for this round: on verdict changes (not a first pass) and on every failing check that does not end the release (the end has its own Event). */
  events: { type: 'Normal' | 'Warning'; reason: Reason; message: string }[];
  /**
   * Set when the round crossed a limit. `failed`: the canary is bad (onFailure);
   * `no-verdict`: no conclusive data or no metrics for too long (onInconclusive).
   */
  end?: { kind: 'failed' | 'no-verdict'; reason: Reason; message: string } | undefined;
}

/** Verdicts after which a pass is news (an Event): the gates recovered. */
const RECOVERED_FROM: ReadonlySet<string> = new Set([GateVerdict.Fail, GateVerdict.Inconclusive, GateVerdict.Error]);

/** The release's round time at or before `at`. */
const boundary = (plan: AnalysisPlan, at: number) => Math.floor((at - plan.roundOffsetMs) / plan.intervalMs) * plan.intervalMs + plan.roundOffsetMs;

/** The release's round time at or after `at`. */
const boundaryFrom = (plan: AnalysisPlan, at: number) => Math.ceil((at - plan.roundOffsetMs) / plan.intervalMs) * plan.intervalMs + plan.roundOffsetMs;

/** How far back a round measures: its window, or with sequential gates alone, one interval (their batch). */
export function measuresBackMs(plan: AnalysisPlan): number {
  return plan.gates.some((g) => !g.sequential) ? plan.windowMs : plan.intervalMs;
}

/** The earliest evaluation time whose round would count: after the last one, with its window after measureFrom. */
function firstCountable(plan: AnalysisPlan, status: CanaryReleaseStatus, now: Date): number {
  const last = timeOf(status.analysis?.evaluatedAt, now);
  const from = timeOf(status.measureFrom, now) ?? Number.NEGATIVE_INFINITY;
  let t = Math.max(last === undefined ? Number.NEGATIVE_INFINITY : last + plan.intervalMs, from + measuresBackMs(plan));
  if (!Number.isFinite(t)) t = boundary(plan, now.getTime());
  return boundaryFrom(plan, t);
}

/**
 * The one predicate that says when analysis is due: the evaluation time of the
 * round to run now, or undefined. Rounds run while the canary has traffic and
 * the release moves by itself (not while it is paused or held).
 */
export function roundDue(plan: AnalysisPlan | undefined, status: CanaryReleaseStatus, now: Date): Date | undefined {
  if (!plan || status.phase !== Phase.Progressing || (status.canaryWeight ?? 0) <= 0 || status.heldSince) return undefined;
  const t = boundary(plan, now.getTime());
  return t >= firstCountable(plan, status, now) ? new Date(t) : undefined;
}

/**
 * Milliseconds until the next round that can count (for requeues). A round due
 * now is already being measured beside the workers, which enqueue the release
 * when it is done; the look after that is at the following boundary.
 */
export function untilNextRound(plan: AnalysisPlan, status: CanaryReleaseStatus, now: Date): number {
  const first = firstCountable(plan, status, now);
  const t = first > now.getTime() ? first : boundary(plan, now.getTime()) + plan.intervalMs;
  return t - now.getTime();
}

/**
 * The evaluation time of the first round that can let the current step end:
 * its time is up, its window lies within the step and after measureFrom, and
 * it follows the last round. A step's message names it from the step's start,
 * so the status does not change while the step waits for that round.
 */
export function firstRoundForStep(plan: AnalysisPlan, status: CanaryReleaseStatus, holdMs: number, now: Date): number {
  const step = timeOf(status.stepStartedAt, now) ?? now.getTime();
  return boundaryFrom(plan, Math.max(firstCountable(plan, status, now), step + holdMs, step + measuresBackMs(plan)));
}

/** Whether a round is new evidence: a later evaluation time than the last one, and a window after measureFrom. */
export function isNewRound(round: AnalysisRound, status: CanaryReleaseStatus, now: Date): boolean {
  const last = timeOf(status.analysis?.evaluatedAt, now);
  const from = timeOf(status.measureFrom, now);
  const t = round.evaluatedAt.getTime();
  if (!Number.isFinite(t) || t > now.getTime()) return false;
  return (last === undefined || t > last) && (from === undefined || round.measuredFrom.getTime() >= from);
}

/**
 * The one evidence rule: whether the latest round lets the step end. It must
 * have passed, with its window (or batch) entirely after the step began and
 * after measureFrom. Before the step's time is up (`early`), only sequential
 * gates can end a step: the round must have judged their evidence for this
 * step, and passed them all on it.
 */
export function evidenceAllowsAdvance(status: CanaryReleaseStatus, now: Date, early = false): boolean {
  const last = status.analysis;
  if (!last || last.verdict !== GateVerdict.Pass) return false;
  const measured = timeOf(last.measuredFrom, now);
  if (measured === undefined) return false;
  const step = timeOf(status.stepStartedAt, now) ?? now.getTime();
  const from = timeOf(status.measureFrom, now) ?? step;
  if (!(measured >= step && measured >= from)) return false;
  if (!early) return true;
  const seq = last.sequential;
  return seq !== undefined && Object.keys(seq.gates).length > 0 && seq.stepStartedAt === status.stepStartedAt;
}

export function summarize(results: GateResult[], verdict: GateVerdict): string {
  const pick = results.filter((r) => r.verdict === verdict);
  return (pick.length ? pick : results).map((r) => r.message).join('; ');
}

/**
 * What a round does to status.analysis. `step` says where the round stands in
 * its step; sequential gates need it (their evidence for the canary is per
 * step, and what they owe depends on whether the step's time is up).
 */
export function recordRound(
  plan: AnalysisPlan, prev: AnalysisStatus | undefined, round: AnalysisRound, subsets: { stable: string; canary: string }, step?: StepClock,
): RoundOutcome {
  const now = round.evaluatedAt;
  const at = isoOf(now.getTime());
  const events: RoundOutcome['events'] = [];
  if (plan.sequential.length > 0 && !step) throw new Error('recordRound: sequential gates need the step clock');
  const seq = step && plan.sequential.length > 0 ? judgeSequential(plan, prev, round, step) : undefined;
  const results = seq ? inGateOrder(plan, [...round.results, ...seq.results]) : round.results;
  const verdict = seq ? worstVerdict([round.verdict, ...seq.results.map((r) => r.verdict)]) : round.verdict;
  const next: AnalysisStatus = {
    evaluatedAt: at,
    measuredFrom: isoOf(round.measuredFrom.getTime()),
    verdict,
    consecutiveFailures: prev?.consecutiveFailures ?? 0,
    gates: results,
    ...(seq ? { sequential: seq.status } : {}),
  };
  if (prev?.inconclusiveSince) next.inconclusiveSince = prev.inconclusiveSince;
  if (prev?.errorSince) next.errorSince = prev.errorSince;
  const changed = prev?.verdict !== verdict;
  const why = summarize(results, verdict);
  let end: RoundOutcome['end'];
  const since = (iso: string) => now.getTime() - (timeOf(iso, now) ?? now.getTime());

  switch (verdict) {
    case GateVerdict.Pass:
      next.consecutiveFailures = 0;
      delete next.inconclusiveSince;
      delete next.errorSince;
      // Told when gates recover; a first pass shows in the Healthy condition and in the step it lets advance.
      if (changed && prev && RECOVERED_FROM.has(prev.verdict)) events.push({ type: 'Normal', reason: Reason.GatesPassed, message: `Gates pass for ${subsets.canary} again: ${why}` });
      break;
    case GateVerdict.Fail:
      next.consecutiveFailures += 1;
      delete next.inconclusiveSince;
      delete next.errorSince;
      if (seq?.failed) {
        // The evidence bound is the sequential gates' failure limit: it holds however often they are checked.
        // The end's own Event (AnalysisFailed) gives the evidence: no GateFailed beside it.
        end = { kind: 'failed', reason: Reason.AnalysisFailed, message: summarize(seq.results, GateVerdict.Fail) };
        break;
      }
      if (next.consecutiveFailures >= plan.failureLimit) {
        end = { kind: 'failed', reason: Reason.AnalysisFailed, message: `${why} on ${next.consecutiveFailures} consecutive checks` };
      } else {
        events.push({ type: 'Warning', reason: Reason.GateFailed, message: `Check ${next.consecutiveFailures}/${plan.failureLimit} failed for ${subsets.canary}: ${why}` });
      }
      break;
    case GateVerdict.Inconclusive: {
      // The error clock keeps running too: alternating outages and thin data must not reset either limit.
      next.inconclusiveSince ??= at;
      const held = since(next.inconclusiveSince);
      if (changed) events.push({ type: 'Normal', reason: Reason.AnalysisInconclusive, message: `Holding: not enough data to judge ${subsets.canary}: ${why}` });
      if (held >= plan.inconclusiveTimeoutMs) {
        end = { kind: 'no-verdict', reason: Reason.AnalysisInconclusive, message: `ended without a verdict: no conclusive data for ${formatDuration(held)} (${why})` };
      }
      break;
    }
    case GateVerdict.Judging:
      // No verdict is owed yet: neither limit's clock starts, stops or resets.
      if (changed) events.push({ type: 'Normal', reason: Reason.Judging, message: `Judging ${subsets.canary} at this step: ${why}` });
      break;
    case GateVerdict.Error: {
      next.errorSince ??= at;
      const held = since(next.errorSince);
      if (changed) events.push({ type: 'Warning', reason: Reason.MetricsUnavailable, message: `Holding: metrics could not be read: ${why}` });
      if (held >= plan.prometheusErrorTimeoutMs) {
        end = { kind: 'no-verdict', reason: Reason.MetricsUnavailable, message: `ended without a verdict: metrics unavailable for ${formatDuration(held)} (${why})` };
      }
      break;
    }
  }
  return { analysis: next, events, end };
}

/** Results in the order of spec.analysis.gates. */
function inGateOrder(plan: AnalysisPlan, results: GateResult[]): GateResult[] {
  const order = new Map(plan.gates.map((g, i) => [g.name, i]));
  return [...results].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
}

/**
 * The round a held step waits for. The one right after the recorded round, when it is due, is asked for in
 * this look and recorded a moment later: it is still the one to name (naming the one after it changed the
 * message at each boundary, a second status write per round). Otherwise the next boundary.
 */
function nextRoundAt(plan: AnalysisPlan, status: CanaryReleaseStatus, now: Date): number {
  const due = roundDue(plan, status, now)?.getTime();
  return due !== undefined && due === firstCountable(plan, status, now) ? due : now.getTime() + untilNextRound(plan, status, now);
}

/** A plain-words line for status.message while the evidence holds a step. */
export function holdMessage(status: CanaryReleaseStatus, plan: AnalysisPlan, now: Date): string {
  const last = status.analysis;
  const next = isoOf(nextRoundAt(plan, status, now));
  if (!last) return `waiting for the first analysis round with fresh data (its window must start after ${status.measureFrom ?? status.stepStartedAt}; due at ${next})`;
  const why = summarize(last.gates, last.verdict);
  switch (last.verdict) {
    case GateVerdict.Pass:
      return `waiting for a passing round measured entirely at this step (due at ${next})`;
    case GateVerdict.Judging:
      return `judging: ${why}; next round due at ${next}`;
    case GateVerdict.Fail:
      return `check ${last.consecutiveFailures}/${plan.failureLimit} failed: ${why}`;
    case GateVerdict.Inconclusive: {
      const from = timeOf(last.inconclusiveSince, now) ?? now.getTime();
      return `inconclusive since ${last.inconclusiveSince}: ${why}; gives up at ${isoOf(from + plan.inconclusiveTimeoutMs)}`;
    }
    case GateVerdict.Error: {
      const from = timeOf(last.errorSince, now) ?? now.getTime();
      return `metrics unavailable since ${last.errorSince}: ${why}; gives up at ${isoOf(from + plan.prometheusErrorTimeoutMs)}`;
    }
  }
}
