// Which status changes the reconciler leaves unwritten: a round that only
// refreshes times and values, for at most ROUND_REFRESH_MS.
import { describe, expect, it } from '@jest/globals';
import type { AnalysisStatus } from '../../../src/api/analysis-status.js';
import type { CanaryReleaseStatus } from '../../../src/api/status.js';
import { ROUND_REFRESH_MS, onlyRoundNoise } from '../../../src/core/round-noise.js';
import { at, iso, progressing } from '../release-fixtures.js';

function round(seconds: number, value: number, extra: Partial<AnalysisStatus> = {}): AnalysisStatus {
  return {
    evaluatedAt: iso(seconds),
    measuredFrom: iso(seconds - 60),
    verdict: 'Pass',
    consecutiveFailures: 0,
    gates: [{ name: 'errors', query: 'q', value, threshold: '<= 5%', verdict: 'Pass', message: `${value}% errors` }],
    ...extra,
  };
}
const withRound = (r: AnalysisStatus, extra: Partial<CanaryReleaseStatus> = {}): CanaryReleaseStatus =>
  progressing(1, 10, iso(-600), { analysis: r, ...extra });

describe('onlyRoundNoise', () => {
  it('skips a pass after a pass that changes only the round\'s times and values', () => {
    expect(onlyRoundNoise(withRound(round(0, 1.2)), withRound(round(10, 0.8)), at(10))).toBe(true);
  });

  it('writes the round once the values in status are ROUND_REFRESH_MS old', () => {
    const later = ROUND_REFRESH_MS / 1000;
    expect(onlyRoundNoise(withRound(round(0, 1.2)), withRound(round(later, 0.8)), at(later))).toBe(false);
    expect(onlyRoundNoise(withRound(round(0, 1.2)), withRound(round(later - 10, 0.8)), at(later - 10))).toBe(true);
  });

  it('writes a changed verdict, failure count, inconclusive or error start', () => {
    const prev = withRound(round(0, 1.2));
    expect(onlyRoundNoise(prev, withRound(round(10, 9, { verdict: 'Fail' })), at(10))).toBe(false);
    expect(onlyRoundNoise(prev, withRound(round(10, 1, { consecutiveFailures: 1 })), at(10))).toBe(false);
    expect(onlyRoundNoise(prev, withRound(round(10, 1, { inconclusiveSince: iso(10) })), at(10))).toBe(false);
    expect(onlyRoundNoise(prev, withRound(round(10, 1, { errorSince: iso(10) })), at(10))).toBe(false);
  });

  it('writes a gate whose own verdict changed while the overall verdict did not', () => {
    const next = round(10, 1);
    next.gates.push({ name: 'latency', query: 'q2', threshold: '<= 500ms', verdict: 'Inconclusive', message: 'no data' });
    const prev = round(0, 1);
    prev.gates.push({ name: 'latency', query: 'q2', value: 120, threshold: '<= 500ms', verdict: 'Pass', message: '120ms' });
    expect(onlyRoundNoise(withRound(prev), withRound(next), at(10))).toBe(false);
  });

  it('writes any change beside the round: step, weight, phase, conditions', () => {
    const prev = withRound(round(0, 1));
    expect(onlyRoundNoise(prev, withRound(round(10, 1), { currentStep: 2, canaryWeight: 50 }), at(10))).toBe(false);
    expect(onlyRoundNoise(prev, withRound(round(10, 1), { phase: 'Paused' }), at(10))).toBe(false);
    expect(onlyRoundNoise(prev, withRound(round(10, 1), {
      conditions: [{ type: 'RouteInSync', status: 'False', reason: 'TrafficDrift', message: 'm', lastTransitionTime: iso(10) }],
    }), at(10))).toBe(false);
  });

  it('writes the first round, and a status that is the same round again is not its business', () => {
    expect(onlyRoundNoise(progressing(1, 10, iso(-600)), withRound(round(10, 1)), at(10))).toBe(false);
    expect(onlyRoundNoise(withRound(round(0, 1)), withRound(round(0, 1)), at(10))).toBe(false);
  });

  it('writes when the last written round\'s time cannot be read', () => {
    expect(onlyRoundNoise(withRound(round(0, 1, { evaluatedAt: 'yesterday' })), withRound(round(10, 1)), at(10))).toBe(false);
  });
});
