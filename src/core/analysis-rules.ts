// The hold and failure rules of analysis gates, as pure functions: when a
// round is due, what a round's verdict does to the counters, and whether the
// evidence lets a step advance.
import { ANALYSIS_DEFAULTS, type AnalysisSpec } from '../api/analysis-spec.js';
import { GateVerdict, type AnalysisStatus, type GateResult } from '../api/analysis-status.js';
import { Reason } from '../api/conditions.js';
import { formatDuration, parseDuration } from './duration.js';

export interface AnalysisRound {
  evaluatedAt: Date;
  results: GateResult[];
  verdict: GateVerdict;
}

export interface RoundOutcome {
  analysis: AnalysisStatus;
  /** Events to record for this round (on verdict changes and every failure). */
  events: { type: 'Normal' | 'Warning'; reason: Reason; message: string }[];
  /** Set when the round crossed a limit: the release must take spec.analysis.onFailure. */
  failure?: { reason: Reason; message: string } | undefined;
}

export const intervalMs = (a: AnalysisSpec) => parseDuration(a.interval ?? ANALYSIS_DEFAULTS.interval) ?? 30_000;

/**
 * Rounds fall on wall-clock multiples of the interval, so every release with
 * the same interval is evaluated in the same round and shares its queries.
 */
export function analysisDue(a: AnalysisSpec, last: AnalysisStatus | undefined, now: Date): boolean {
  if (!last) return true;
  const every = intervalMs(a);
  return Math.floor(now.getTime() / every) > Math.floor(Date.parse(last.evaluatedAt) / every);
}

/** Milliseconds until the next round boundary. */
export function untilNextRound(a: AnalysisSpec, now: Date): number {
  const every = intervalMs(a);
  return every - (now.getTime() % every);
}

/** Whether the latest round passed, with enough data, after the current step began. */
export function evidenceAllowsAdvance(last: AnalysisStatus | undefined, stepStartedAt: string | undefined): boolean {
  if (!last || last.verdict !== GateVerdict.Pass) return false;
  return !stepStartedAt || Date.parse(last.evaluatedAt) >= Date.parse(stepStartedAt);
}

export function summarize(results: GateResult[], verdict: GateVerdict): string {
  const pick = results.filter((r) => r.verdict === verdict);
  return (pick.length ? pick : results).map((r) => r.message).join('; ');
}

export function recordRound(a: AnalysisSpec, prev: AnalysisStatus | undefined, round: AnalysisRound, subsets: { stable: string; canary: string }): RoundOutcome {
  const now = round.evaluatedAt;
  const at = now.toISOString();
  const events: RoundOutcome['events'] = [];
  const limit = a.failureLimit ?? ANALYSIS_DEFAULTS.failureLimit;
  const next: AnalysisStatus = {
    evaluatedAt: at,
    verdict: round.verdict,
    consecutiveFailures: prev?.consecutiveFailures ?? 0,
    gates: round.results,
  };
  if (prev?.inconclusiveSince) next.inconclusiveSince = prev.inconclusiveSince;
  if (prev?.errorSince) next.errorSince = prev.errorSince;
  const changed = prev?.verdict !== round.verdict;
  const why = summarize(round.results, round.verdict);
  let failure: RoundOutcome['failure'];

  switch (round.verdict) {
    case GateVerdict.Pass:
      next.consecutiveFailures = 0;
      delete next.inconclusiveSince;
      delete next.errorSince;
      if (changed) events.push({ type: 'Normal', reason: Reason.GatesPassed, message: `Gates pass for ${subsets.canary}: ${why}` });
      break;
    case GateVerdict.Fail:
      next.consecutiveFailures += 1;
      delete next.inconclusiveSince;
      delete next.errorSince;
      events.push({ type: 'Warning', reason: Reason.GateFailed, message: `Check ${next.consecutiveFailures}/${limit} failed for ${subsets.canary}: ${why}` });
      if (next.consecutiveFailures >= limit) {
        failure = { reason: Reason.AnalysisFailed, message: `${why} on ${next.consecutiveFailures} consecutive checks` };
      }
      break;
    case GateVerdict.Inconclusive: {
      // The error clock keeps running too: alternating outages and thin data must not reset either limit.
      next.inconclusiveSince ??= at;
      const held = now.getTime() - Date.parse(next.inconclusiveSince);
      const max = parseDuration(a.inconclusiveTimeout ?? ANALYSIS_DEFAULTS.inconclusiveTimeout) ?? 0;
      if (changed) events.push({ type: 'Normal', reason: Reason.AnalysisInconclusive, message: `Holding: not enough data to judge ${subsets.canary}: ${why}` });
      if (held >= max) failure = { reason: Reason.AnalysisInconclusive, message: `no conclusive data for ${formatDuration(held)} (${why})` };
      break;
    }
    case GateVerdict.Error: {
      next.errorSince ??= at;
      const held = now.getTime() - Date.parse(next.errorSince);
      const max = parseDuration(a.prometheusErrorTimeout ?? ANALYSIS_DEFAULTS.prometheusErrorTimeout) ?? 0;
      if (changed) events.push({ type: 'Warning', reason: Reason.MetricsUnavailable, message: `Holding: metrics could not be read: ${why}` });
      if (held >= max) failure = { reason: Reason.MetricsUnavailable, message: `metrics unavailable for ${formatDuration(held)} (${why})` };
      break;
    }
  }
  return { analysis: next, events, failure };
}

/** A plain-words line for status.message while the evidence holds a step. */
export function holdMessage(last: AnalysisStatus | undefined, a: AnalysisSpec): string {
  if (!last) return 'waiting for the first analysis round';
  const why = summarize(last.gates, last.verdict);
  switch (last.verdict) {
    case GateVerdict.Pass:
      return 'waiting for an analysis round at this step';
    case GateVerdict.Fail:
      return `check ${last.consecutiveFailures}/${a.failureLimit ?? ANALYSIS_DEFAULTS.failureLimit} failed: ${why}`;
    case GateVerdict.Inconclusive: {
      const max = parseDuration(a.inconclusiveTimeout ?? ANALYSIS_DEFAULTS.inconclusiveTimeout) ?? 0;
      return `inconclusive since ${last.inconclusiveSince}: ${why}; gives up at ${new Date(Date.parse(last.inconclusiveSince ?? last.evaluatedAt) + max).toISOString()}`;
    }
    case GateVerdict.Error: {
      const max = parseDuration(a.prometheusErrorTimeout ?? ANALYSIS_DEFAULTS.prometheusErrorTimeout) ?? 0;
      return `metrics unavailable since ${last.errorSince}: ${why}; gives up at ${new Date(Date.parse(last.errorSince ?? last.evaluatedAt) + max).toISOString()}`;
    }
  }
}
