// The release plan: the spec's steps (or its shorthand) as a list that always
// ends with the promotion to 100%.
import { DEFAULTS, type CanaryReleaseSpec } from '../api/spec.js';
import { parseDuration } from './duration.js';

export interface PlannedStep {
  /** Percent of the stable+canary share sent to the canary during this step. */
  weight: number;
  /** How long the step holds before the next one; 0 for the final 100% step. */
  durationMs: number;
}

export function planSteps(spec: CanaryReleaseSpec): PlannedStep[] {
  const planned: PlannedStep[] = [];
  if (spec.steps) {
    for (const s of spec.steps) {
      planned.push({ weight: s.weight, durationMs: s.weight === 100 ? 0 : ms(s.duration ?? DEFAULTS.stepDuration) });
    }
  } else if (spec.stepWeight !== undefined) {
    const max = spec.maxWeight ?? DEFAULTS.maxWeight;
    const hold = ms(spec.stepDuration ?? DEFAULTS.stepDuration);
    for (let w = spec.stepWeight; w < Math.min(max, 100); w += spec.stepWeight) planned.push({ weight: w, durationMs: hold });
    if (max < 100 && planned.at(-1)?.weight !== max) planned.push({ weight: max, durationMs: hold });
  } else {
    for (const s of DEFAULTS.steps) planned.push({ weight: s.weight, durationMs: 'duration' in s ? ms(s.duration) : 0 });
  }
  if (planned.at(-1)?.weight !== 100) planned.push({ weight: 100, durationMs: 0 });
  return planned;
}

function ms(d: string): number {
  return parseDuration(d) ?? 0;
}

/** Where a canary weight stands in a plan: an edited plan is re-mapped onto the weight the route has now. */
export interface PlanPosition {
  /** 1-based index of the step with exactly this weight, else the number of steps below it (for display). */
  step: number;
  /** Whether the weight is one of the plan's steps. */
  onStep: boolean;
  /** How long to hold at this weight: the step's duration, or for a weight between steps that of the step below it. */
  holdMs: number;
  /** The next step up; undefined at 100. */
  next: PlannedStep | undefined;
  nextIndex: number;
}

export function positionOf(steps: PlannedStep[], weight: number): PlanPosition {
  const at = steps.findIndex((s) => s.weight === weight);
  const below = steps.filter((s) => s.weight < weight);
  const nextIndex = steps.findIndex((s) => s.weight > weight);
  const holdFrom = at >= 0 ? steps[at] : below.at(-1) ?? steps[0];
  return {
    step: at >= 0 ? at + 1 : below.length,
    onStep: at >= 0,
    holdMs: holdFrom?.durationMs ?? 0,
    next: nextIndex >= 0 ? steps[nextIndex] : undefined,
    nextIndex: nextIndex + 1,
  };
}
