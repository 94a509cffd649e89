// Which status changes are not worth a write. Every release with gates gets a
// round each interval; a round that passes after a pass (or stays
// inconclusive, or errs again) changes only its times and measured values.
// Writing those would be one status write per release per interval (33/s at
// 1,000 releases), each an update event for every watcher. Nothing depends on
// them: the next decision sees the same round again (the round scheduler
// keeps it), evidence for a step is re-derived when the step may end, and a
// restart only waits for the next round. So such a status is not written,
// except every ROUND_REFRESH_MS so the values a person reads stay recent.
import { ConditionType } from '../api/conditions.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import { deepEqual } from '../util/deep-equal.js';
import { timeOf } from './time.js';

/** How old the gate values in status may get while rounds change nothing else. */
export const ROUND_REFRESH_MS = 5 * 60_000;

export function onlyRoundNoise(prev: CanaryReleaseStatus, next: CanaryReleaseStatus, now: Date): boolean {
  const a = prev.analysis;
  const b = next.analysis;
  if (!a || !b || a.evaluatedAt === b.evaluatedAt) return false;
  if (a.verdict !== b.verdict || a.consecutiveFailures !== b.consecutiveFailures || a.inconclusiveSince !== b.inconclusiveSince || a.errorSince !== b.errorSince) return false;
  const written = timeOf(a.evaluatedAt, now);
  if (written === undefined || now.getTime() - written >= ROUND_REFRESH_MS) return false;
  return deepEqual(withoutRound(prev), withoutRound(next));
}

/** The status without what a round refreshes: its times, its gate values, and the Healthy condition's message. */
function withoutRound(st: CanaryReleaseStatus): unknown {
  const { analysis, conditions, ...rest } = st;
  return {
    ...rest,
    analysis: analysis && { ...analysis, evaluatedAt: '', measuredFrom: '', gates: analysis.gates.map((g) => ({ name: g.name, verdict: g.verdict })) },
    conditions: conditions?.map((c) => (c.type === ConditionType.Healthy ? { ...c, message: '' } : c)),
  };
}
