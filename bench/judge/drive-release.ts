// One simulated release from the first step to its end: rounds at every
// interval, the judge's decision, steps advancing as the reconciler does, and
// what it cost. The rules themselves live behind ReleaseJudge (gates-judge.ts
// for the project's gates, sequential-release-judge.ts for the sequential ones).
import type { ReleaseJudge } from './release-judge.js';
import type { ReleasePlan } from './release-plan.js';
import { SimulatedTraffic } from './simulated-traffic.js';
import type { ReleaseScenario } from './release-scenario.js';

export type ReleaseResult = 'promoted' | 'rolledBack' | 'inconclusive';

export interface ReleaseOutcome {
  result: ReleaseResult;
  /** ms since the canary first got traffic. */
  atMs: number;
  /** Canary requests served until the decision. */
  canaryRequests: number;
}

export function driveRelease(scenario: ReleaseScenario, plan: ReleasePlan, judge: ReleaseJudge): ReleaseOutcome {
  const traffic = new SimulatedTraffic(scenario, plan.deadlineMs);
  const end = (result: ReleaseResult, atMs: number): ReleaseOutcome => ({ result, atMs, canaryRequests: traffic.canaryRequestsUntil(atMs) });
  let step = 0;
  let stepStartedAt = 0;
  judge.startStep(0, traffic);
  for (let t = plan.intervalMs; t <= plan.deadlineMs; t += plan.intervalMs) {
    const current = plan.steps[step] as ReleasePlan['steps'][number];
    traffic.generateUntil(t, current.weight);
    const decision = judge.round({ t, stepStartedAt, stepTimeIsUp: t - stepStartedAt >= current.durationMs }, traffic);
    if (decision.fail) return end(decision.fail === 'gates' ? 'rolledBack' : 'inconclusive', t);
    if (!decision.advance) continue;
    step++;
    const next = plan.steps[step];
    if (!next || next.weight === 100) return end('promoted', t);
    stepStartedAt = t;
    judge.startStep(t, traffic);
  }
  return end('inconclusive', plan.deadlineMs);
}
