// Figures over many simulated releases of one kind: how they ended, and how
// long and how many canary requests the decisions took.
import type { ReleaseOutcome } from './drive-release.js';

export interface OutcomeSummary {
  releases: number;
  promoted: number;
  rolledBack: number;
  inconclusive: number;
  /** Of rollbacks (bad canaries: detections). */
  medianSeconds: number;
  p90Seconds: number;
  medianCanaryRequests: number;
  p90CanaryRequests: number;
  /** Of promotions. */
  medianSecondsToPromote: number;
}

export function summarize(outcomes: readonly ReleaseOutcome[]): OutcomeSummary {
  const rolled = outcomes.filter((o) => o.result === 'rolledBack');
  const promoted = outcomes.filter((o) => o.result === 'promoted');
  const seconds = rolled.map((o) => o.atMs / 1000);
  const requests = rolled.map((o) => o.canaryRequests);
  return {
    releases: outcomes.length,
    promoted: promoted.length,
    rolledBack: rolled.length,
    inconclusive: outcomes.filter((o) => o.result === 'inconclusive').length,
    medianSeconds: quantile(seconds, 0.5),
    p90Seconds: quantile(seconds, 0.9),
    medianCanaryRequests: quantile(requests, 0.5),
    p90CanaryRequests: quantile(requests, 0.9),
    medianSecondsToPromote: quantile(promoted.map((o) => o.atMs / 1000), 0.5),
  };
}

/** The q-quantile (lower, no interpolation) of xs; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export const share = (n: number, of: number) => (of === 0 ? Number.NaN : n / of);
