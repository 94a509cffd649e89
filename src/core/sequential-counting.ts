// Which stretch of time the sequential gates count next, read from status
// alone, so a restarted operator asks for exactly what was not counted yet;
// and what a finished batch is to the evidence when it comes back.
//
// A batch is (from, t]: from the end of the last batch counted, never before
// measureFrom, and never before the step's start once the step has begun, so
// a batch lies within one weight (the test needs one request share per batch).
import type { AnalysisStatus } from '../api/analysis-status.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { AnalysisPlan } from './plan.js';
import { timeOf } from './time.js';

export interface SequentialCounting {
  /** The batch starts here and ends at the round's evaluation time. */
  from: Date;
  /** The latency boundary of each gate that has one (recorded in status, else set in the spec). */
  boundariesMs: Record<string, number>;
}

/**
 * The end of the last batch counted. Never after the last round's evaluation
 * time: that is pulled back to now when a fast clock wrote it, and this follows.
 */
export function countedUntilOf(analysis: AnalysisStatus | undefined, now: Date): number | undefined {
  const counted = timeOf(analysis?.sequential?.countedUntil, now);
  const evaluated = timeOf(analysis?.evaluatedAt, now);
  if (counted === undefined) return undefined;
  return evaluated === undefined ? counted : Math.min(counted, evaluated);
}

/** What the round at `at` counts for the sequential gates; undefined when the plan has none. */
export function countingFor(plan: AnalysisPlan, status: CanaryReleaseStatus, at: Date): SequentialCounting | undefined {
  if (plan.sequential.length === 0) return undefined;
  const t = at.getTime();
  const step = timeOf(status.stepStartedAt, at);
  const starts = [countedUntilOf(status.analysis, at), timeOf(status.measureFrom, at), step !== undefined && step < t ? step : undefined];
  const known = starts.filter((x): x is number => x !== undefined && x < t);
  const from = known.length > 0 ? Math.max(...known) : t - plan.intervalMs;
  const boundariesMs: Record<string, number> = {};
  for (const g of plan.sequential) {
    const b = status.analysis?.sequential?.gates[g.name]?.boundaryMs ?? g.boundaryMs;
    if (b !== undefined) boundariesMs[g.name] = b;
  }
  return { from: new Date(from), boundariesMs };
}

/**
 * What a batch (from, to] is to the evidence of the step that began at `stepStart`:
 *  - count: new counts at this step;
 *  - previous-step: new counts, all from before this step began (asked for before the step
 *    advanced): evidence against the canary, not evidence for it at this step;
 *  - already-counted: it overlaps what was counted (asked for before the previous batch was
 *    recorded); dropped, and the next batch starts where the counting stopped, so nothing is lost;
 *  - straddles-step: it spans a weight change (two request shares in one batch); dropped.
 */
export type BatchUse = 'count' | 'previous-step' | 'already-counted' | 'straddles-step';

export function batchUse(from: number, to: number, countedUntil: number | undefined, stepStart: number | undefined): BatchUse {
  if (countedUntil !== undefined && from < countedUntil) return 'already-counted';
  if (stepStart === undefined || from >= stepStart) return 'count';
  return to <= stepStart ? 'previous-step' : 'straddles-step';
}
