// The verdict of a sequential gate from its evidence: fail as soon as the
// evidence against reaches 1/alpha (Ville's inequality bounds false rollbacks
// by alpha however often this is asked), pass early when the evidence for
// reaches 1/beta, and otherwise pass when the step's time is up, with enough
// canary requests, unless the evidence against outweighs the evidence for by
// more than holdAbove (then hold until one of them reaches its bound). That
// last rule carries no error bound of its own: it lets a step end when the
// data is too thin to prove anything (no events at all: both are 1), and holds
// a step while the data lean against the canary; bench/decision-quality.ts
// measured its threshold.
import { describeEvidence } from './judgement-message.js';
import { lnEvidenceAgainst, lnEvidenceFor, type SequentialEvidence } from './ratio-evidence.js';
import type { SequentialJudgeConfig } from './sequential-config.js';
import { plainNumber as num } from './plain-number.js';

export type SequentialVerdict = 'fail' | 'pass' | 'continue';

export interface SequentialJudgement {
  verdict: SequentialVerdict;
  /** The e-value against "canary within tolerance" (may be Infinity). */
  evidenceAgainst: number;
  /** The e-value against "canary at or above passRatio", at this step. */
  evidenceFor: number;
  message: string;
}

export function judge(state: SequentialEvidence, config: SequentialJudgeConfig, step: { timeIsUp: boolean }): SequentialJudgement {
  const lnAgainst = lnEvidenceAgainst(state);
  const lnFor = lnEvidenceFor(state);
  const failBound = 1 / config.falseRollbackRate;
  const passBound = 1 / config.earlyPassErrorRate;
  const enough = state.step.canaryRequests >= config.minRequests;
  const base = { evidenceAgainst: Math.exp(lnAgainst), evidenceFor: Math.exp(lnFor) };
  const said = describeEvidence(state, config.subject);
  const of = (verdict: SequentialVerdict, why: string): SequentialJudgement => ({ ...base, verdict, message: `${said}; ${why}` });

  if (lnAgainst >= Math.log(failBound)) return of('fail', `evidence ${num(base.evidenceAgainst)} against reached the bound of ${num(failBound)}`);
  if (enough && lnFor >= Math.log(passBound)) return of('pass', `evidence ${num(base.evidenceFor)} for reached the bound of ${num(passBound)}: passes${step.timeIsUp ? '' : ' early'}`);
  const against = `evidence ${num(base.evidenceAgainst)} against a bound of ${num(failBound)}`;
  if (!step.timeIsUp) return of('continue', against);
  if (!enough) return of('continue', `${against}; holding: ${num(state.step.canaryRequests)} canary requests at this step (need ${num(config.minRequests)})`);
  const lean = `${against}, ${num(base.evidenceFor)} for`;
  if (lnAgainst - lnFor > Math.log(config.holdAbove)) return of('continue', `${lean}; holding while against is more than ${num(config.holdAbove)} times for`);
  return of('pass', `${lean} when the step's time is up: passes`);
}
