// What a sequential gate is configured with, and the defaults measured by
// bench/decision-quality.ts (npm run bench:judge -- --tune shows the alternatives).

export interface SequentialJudgeConfig {
  /** alpha: the chance that a canary within tolerance is ever failed, over the whole release. */
  falseRollbackRate: number;
  /** beta: the chance that a canary at or above passRatio passes a step early. */
  earlyPassErrorRate: number;
  /** Canary requests a step needs before it may pass. */
  minRequests: number;
  /**
   * When the step's time is up (and minRequests were seen), it passes unless
   * the evidence against is more than this many times the evidence for; then
   * it holds for more data until either reaches its bound.
   */
  holdAbove: number;
  /** What the events are, for the message. */
  subject: EventSubject;
}

export type EventSubject = { kind: 'errors' } | { kind: 'slow'; boundaryMs: number };

export const SEQUENTIAL_DEFAULTS = {
  falseRollbackRate: 0.01,
  earlyPassErrorRate: 0.05,
  /** Canary requests at a step before it may pass: 25 promoted 12 points more healthy releases than 50 in the benchmark (0.2 requests/s), with the same detections. */
  minRequests: 25,
  holdAbove: 3,
  /** Tolerated canary/stable ratio of 5xx shares. */
  errorMaxRatio: 1.2,
  /** Tolerated canary/stable ratio of the shares of requests slower than stable's pXX boundary. */
  latencyMaxRatio: 1.2,
  /**
   * The evidence for rules out this multiple of the tolerated ratio: 1, so an
   * early pass needs evidence that the canary is within tolerance (1.25 and 2
   * caught fewer 2x canaries in the benchmark, for no faster healthy releases).
   */
  passRatioOverMax: 1,
} as const;

/** The ratio the evidence for rules out when none is configured. */
export function defaultPassRatio(maxRatio: number): number {
  return maxRatio * SEQUENTIAL_DEFAULTS.passRatioOverMax;
}

/**
 * Several sequential gates of one release share its false-rollback budget
 * (Bonferroni): each gets alpha / gates, so the release's bound stays alpha.
 */
export function perGateFalseRollbackRate(releaseRate: number, sequentialGates: number): number {
  if (!(releaseRate > 0 && releaseRate < 1)) throw new RangeError(`falseRollbackRate must be between 0 and 1, got ${releaseRate}`);
  return releaseRate / Math.max(1, sequentialGates);
}
