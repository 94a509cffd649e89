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
