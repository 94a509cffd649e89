// The simulated release's plan: steps, analysis cadence and the overall end.
export interface ReleasePlan {
  steps: { weight: number; durationMs: number }[];
  intervalMs: number;
  windowMs: number;
  /** The release is inconclusive if it has neither promoted nor rolled back by then. */
  deadlineMs: number;
}

export const RELEASE_PLAN: ReleasePlan = {
  steps: [
    { weight: 10, durationMs: 60_000 },
    { weight: 50, durationMs: 60_000 },
    { weight: 100, durationMs: 0 },
  ],
  intervalMs: 30_000,
  windowMs: 60_000,
  deadlineMs: 30 * 60_000,
};
