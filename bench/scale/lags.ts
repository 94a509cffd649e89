// The operator's lags, from the statuses it wrote and the audit log:
//   first step: the release's creation -> its first stepStartedAt;
//   step:       the step became eligible -> the next step's stepStartedAt
//               (the promotion's completedAt for the last one). Eligible is
//               stepStartedAt + duration, and with gates also the evaluation
//               time of the round that let it advance (status.analysis of the
//               next step's status): rounds fall on interval boundaries, so
//               waiting for one is the design, not lag. The plain
//               "stepStartedAt + duration -> next" figure is kept beside it;
//   rollback:   the failing round's evaluatedAt -> the route back at 0 (the
//               operator's last successful write of the VirtualService).
import { parseTime } from './distribution.js';
import { transitionIndices, type ObservedStatus, type ReleaseHistory } from './release-history.js';

export interface Lags {
  /** Milliseconds, one value per release or step. */
  firstStep: number[];
  stepFromEligible: number[];
  stepFromDuration: number[];
  rollback: number[];
}

export interface LagInputs {
  /** Durations of the steps in ms (steps[k] for step k+1). */
  stepDurationsMs: readonly number[];
  /** Creation time per "namespace/name" in epoch ms (from the audit log); creationTimestamp otherwise. */
  createdAt: ReadonlyMap<string, number>;
  /** When the operator last wrote each release's route (epoch ms), by "namespace/name" of the release. */
  lastRouteWrite: ReadonlyMap<string, number>;
}

const keyOf = (h: ReleaseHistory) => `${h.namespace}/${h.name}`;

/** The time a step was applied: its stepStartedAt, or completedAt for a promotion. */
function appliedAt(s: ObservedStatus): number {
  return s.phase === 'Succeeded' ? parseTime(s.completedAt) : parseTime(s.stepStartedAt);
}

export function computeLags(histories: readonly ReleaseHistory[], inputs: LagInputs): Lags {
  const lags: Lags = { firstStep: [], stepFromEligible: [], stepFromDuration: [], rollback: [] };
  for (const h of histories) {
    const key = keyOf(h);
    const created = inputs.createdAt.get(key) ?? parseTime(h.creationTimestamp);
    const first = h.statuses.find((s) => (s.currentStep ?? 0) >= 1 && s.phase === 'Progressing');
    if (first) lags.firstStep.push(parseTime(first.stepStartedAt) - created);

    for (const i of transitionIndices(h.statuses)) {
      const next = h.statuses[i]!;
      const before = h.statuses[i - 1];
      const step = before?.currentStep ?? 0;
      const advanced = before?.phase === 'Progressing' && step >= 1 && (next.currentStep ?? 0) === step + 1 && (next.phase === 'Progressing' || next.phase === 'Succeeded');
      if (!advanced) continue;
      const duration = inputs.stepDurationsMs[step - 1] ?? 0;
      const byDuration = parseTime(before.stepStartedAt) + duration;
      const round = parseTime(next.evaluatedAt);
      const eligible = Number.isFinite(round) ? Math.max(byDuration, round) : byDuration;
      const applied = appliedAt(next);
      lags.stepFromDuration.push(applied - byDuration);
      lags.stepFromEligible.push(applied - eligible);
    }

    const last = h.statuses.at(-1);
    if (last?.phase === 'RolledBack' && last.evaluatedAt) {
      const routed = inputs.lastRouteWrite.get(key);
      if (routed !== undefined) lags.rollback.push(routed - parseTime(last.evaluatedAt));
    }
  }
  return lags;
}

/** Releases with canary traffic at time t: their first step started at or before t and they had not ended. */
export function activeAt(histories: readonly ReleaseHistory[], t: number): number {
  let n = 0;
  for (const h of histories) {
    const first = h.statuses.find((s) => (s.currentStep ?? 0) >= 1);
    if (!first || parseTime(first.stepStartedAt) > t) continue;
    const end = h.statuses.find((s) => s.phase === 'Succeeded' || s.phase === 'RolledBack' || s.phase === 'Failed');
    if (end && parseTime(end.completedAt) <= t) continue;
    n++;
  }
  return n;
}
