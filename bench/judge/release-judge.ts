// The seam between the simulated release and a set of rules: at every round
// the rules see the traffic so far and say fail, advance, or neither.
import type { SimulatedTraffic } from './simulated-traffic.js';

export interface RoundContext {
  /** Round time, ms since the canary first got traffic (a multiple of the interval). */
  t: number;
  stepStartedAt: number;
  /** The step's duration has elapsed. */
  stepTimeIsUp: boolean;
}

export interface RoundDecision {
  /** 'gates': the gates failed the canary; 'inconclusive': a hold ran into its time limit. */
  fail?: 'gates' | 'inconclusive';
  /** The current step may end now (the loop advances or promotes). */
  advance: boolean;
}

export interface ReleaseJudge {
  /** A step begins at t (0 for the first). */
  startStep(t: number, traffic: SimulatedTraffic): void;
  round(ctx: RoundContext, traffic: SimulatedTraffic): RoundDecision;
}
