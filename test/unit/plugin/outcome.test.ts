import { describe, expect, it } from '@jest/globals';
import { ExitCode } from '../../../src/plugin/errors.js';
import { pendingRequests, releaseOutcome, staleness } from '../../../src/plugin/outcome.js';
import { progressing, withStatus } from './fixtures.js';

describe('the outcome of a release and its exit code', () => {
  it('maps the terminal phases: Succeeded 0, RolledBack and Failed 1', () => {
    expect(releaseOutcome(withStatus({ phase: 'Succeeded', message: 'Promoted' }))).toEqual({
      ended: true, phase: 'Succeeded', exitCode: ExitCode.Ok, summary: 'canaryrelease bookinfo/reviews Succeeded: Promoted',
    });
    expect(releaseOutcome(withStatus({ phase: 'RolledBack', message: 'Aborted on request at 30%' }))).toMatchObject({
      ended: true, exitCode: ExitCode.ReleaseFailed, summary: 'canaryrelease bookinfo/reviews RolledBack: Aborted on request at 30%',
    });
    expect(releaseOutcome(withStatus({ phase: 'Failed' }))).toMatchObject({ ended: true, exitCode: 1 });
    expect([ExitCode.Ok, ExitCode.ReleaseFailed, ExitCode.Error]).toEqual([0, 1, 2]);
  });

  it('tells a release that ended without a verdict (exit 3) from one judged bad (exit 1)', () => {
    const ended = (reason: string) => withStatus({
      phase: 'RolledBack', message: 'ended without a verdict: no conclusive data for 30m',
      conditions: [{ type: 'Progressing', status: 'False', reason, message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    });
    expect(releaseOutcome(ended('AnalysisInconclusive'))).toMatchObject({ ended: true, exitCode: ExitCode.NoVerdict, summary: expect.stringContaining('without a verdict') });
    expect(releaseOutcome(ended('MetricsUnavailable'))).toMatchObject({ exitCode: 3 });
    expect(releaseOutcome(ended('AnalysisFailed'))).toMatchObject({ exitCode: ExitCode.ReleaseFailed });
  });

  it('is still running in Pending, Progressing and Paused, and says where it is', () => {
    expect(releaseOutcome(progressing())).toEqual({
      ended: false,
      summary: `canaryrelease bookinfo/reviews is Progressing at step 2/3 (50% on v2): ${progressing().status?.message}`,
    });
    expect(releaseOutcome(withStatus({ phase: 'Paused' })).ended).toBe(false);
    expect(releaseOutcome(withStatus({ phase: 'Pending' })).ended).toBe(false);
  });

  it('does not trust a terminal phase the operator has not re-evaluated: new spec generation or unhandled request', () => {
    const newSpec = withStatus({ phase: 'Succeeded' });
    newSpec.metadata.generation = 2;
    expect(releaseOutcome(newSpec)).toMatchObject({ ended: false });
    expect(releaseOutcome(newSpec).summary).toContain('the operator has not caught up yet');

    const retried = withStatus({ phase: 'RolledBack', handledRequests: { abort: 'a-1' } });
    retried.metadata.annotations = { 'canary-operator.dev/abort': 'a-1', 'canary-operator.dev/retry': 'r-1' };
    expect(pendingRequests(retried)).toEqual(['retry']);
    expect(releaseOutcome(retried)).toMatchObject({ ended: false });
    expect(releaseOutcome(retried).summary).toContain('the retry request is not handled by the operator yet');

    retried.status = { ...retried.status, handledRequests: { abort: 'a-1', retry: 'r-1' } };
    expect(pendingRequests(retried)).toEqual([]);
    expect(releaseOutcome(retried)).toMatchObject({ ended: true, exitCode: 1 });
  });

  it('is not ended before the operator reported any status', () => {
    const r = progressing();
    delete r.status;
    expect(staleness(r)).toBe('the operator has not reported any status yet');
    expect(releaseOutcome(r)).toMatchObject({ ended: false });
    expect(releaseOutcome(r).summary).toContain('is not started');
  });

  it('ignores empty request annotations', () => {
    const r = progressing();
    r.metadata.annotations = { 'canary-operator.dev/promote': '' };
    expect(pendingRequests(r)).toEqual([]);
  });
});
