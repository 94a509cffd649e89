import { describe, expect, test } from '@jest/globals';
import { decide } from '../../src/core/decide.js';
import { summaryOf } from '../../src/core/summary.js';
import { NOW, UNAVAILABLE, iso, obs, pending, progressing, snap } from './release-fixtures.js';

const cond = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: 'm', lastTransitionTime: iso(0) });

describe('the MESSAGE column: a few words, always short', () => {
  test.each([
    ['a step', progressing(2, 50, iso(-1), { conditions: [cond('Progressing', 'True', 'StepInProgress')] }), 'step 2/3 at 50%'],
    ['waiting for analysis', progressing(2, 50, iso(-1), { conditions: [cond('Progressing', 'True', 'WaitingForAnalysis')] }), 'step 2/3 at 50%, waiting for analysis'],
    ['another owner', pending({ conditions: [cond('TrafficRoutable', 'False', 'RouteInUse')] }), 'waiting: another release owns the route'],
    ['an unusable route', pending({ conditions: [cond('TrafficRoutable', 'False', 'SubsetNotFound')] }), 'holding: SubsetNotFound'],
    ['the canary workload', pending({ conditions: [cond('Progressing', 'True', 'WaitingForCanary')] }), 'waiting for the canary workload'],
    ['promoted', { phase: 'Succeeded' as const, conditions: [cond('Progressing', 'False', 'Promoted')] }, 'promoted'],
    ['promoted, route changed since', { phase: 'Succeeded' as const, conditions: [cond('RouteInSync', 'False', 'TrafficDrift')] }, 'promoted; route changed since'],
    ['rolled back by gates', { phase: 'RolledBack' as const, conditions: [cond('Progressing', 'False', 'AnalysisFailed')] }, 'rolled back: gates failed'],
    ['no verdict', { phase: 'RolledBack' as const, conditions: [cond('Progressing', 'False', 'AnalysisInconclusive')] }, 'rolled back: no verdict: too little data'],
    ['paused by analysis', progressing(1, 20, iso(-1), { phase: 'Paused', pausedBy: 'analysis' }), 'paused by analysis at 20%: a person decides'],
  ])('%s', (_, status, text) => {
    expect(summaryOf(status)).toBe(text);
  });

  test('every decision writes one, and it stays short while status.message has the whole story', () => {
    const d = decide(snap({ status: progressing(1, 10, iso(-30)) }), obs(10, UNAVAILABLE), NOW);
    expect(d.status.summary).toBe('holding: the canary cannot serve');
    expect(d.status.message?.length).toBeGreaterThan(80);
    expect(d.status.summary?.length).toBeLessThanOrEqual(60);
  });
});
