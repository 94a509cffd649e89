import { describe, expect, it } from '@jest/globals';
import { planAction } from '../../../src/plugin/commands.js';
import { pausePlan, requestPatch, resumePlan, uniqueRequestValue } from '../../../src/plugin/requests.js';
import { NOW, progressing, withStatus } from './fixtures.js';

const VALUE = '2025-03-01T12:00:00.000Z-0badcafe';
const random = () => '0badcafe';

describe('request values', () => {
  it('are a timestamp plus randomness, never the same twice', () => {
    expect(uniqueRequestValue(NOW, random)).toBe(VALUE);
    const values = new Set(Array.from({ length: 200 }, () => uniqueRequestValue(NOW)));
    expect(values.size).toBe(200);
    expect([...values][0]).toMatch(/^2025-03-01T12:00:00\.000Z-[0-9a-f]{8}$/);
  });
});

describe('one merge patch per action', () => {
  it('promote, abort and retry set their annotation to the new value, and nothing else', () => {
    for (const action of ['promote', 'abort', 'retry'] as const) {
      const plan = planAction(action, withStatus({ phase: action === 'retry' ? 'RolledBack' : 'Progressing' }), NOW, random);
      expect(plan.patch).toEqual({ metadata: { annotations: { [`canary-operator.dev/${action}`]: VALUE } } });
      expect(plan.done).toContain(`canary-operator.dev/${action}=${VALUE}`);
      expect(plan.notes).toEqual([]);
    }
    expect(requestPatch('resume', 'x')).toEqual({ metadata: { annotations: { 'canary-operator.dev/resume': 'x' } } });
  });

  it('warns when the operator will ignore the request, but still sends it', () => {
    const retryRunning = planAction('retry', progressing(), NOW, random);
    expect(retryRunning.patch).toBeDefined();
    expect(retryRunning.notes[0]).toContain('retries only a RolledBack or Failed release');
    const promoteDone = planAction('promote', withStatus({ phase: 'Succeeded' }), NOW, random);
    expect(promoteDone.notes[0]).toContain('has already ended (Succeeded)');
    const promoteUnavailable = planAction('promote', withStatus({
      conditions: [{ type: 'CanaryAvailable', status: 'False', reason: 'CanaryUnavailable', message: 'x', lastTransitionTime: NOW.toISOString() }],
    }), NOW, random);
    expect(promoteUnavailable.notes[0]).toContain('refuses to promote');
  });

  it('pause sets spec.paused, says GitOps wins, and does nothing when already paused', () => {
    expect(pausePlan(progressing())).toMatchObject({ patch: { spec: { paused: true } } });
    expect(pausePlan(progressing()).notes.join()).toContain('the value in git wins');
    const paused = { ...progressing(), spec: { ...progressing().spec, paused: true } };
    expect(pausePlan(paused)).toEqual({ done: 'already paused (spec.paused is true); nothing changed', notes: [] });
  });

  it('resume clears spec.paused after a spec pause', () => {
    const r = withStatus({ phase: 'Paused', pausedBy: 'spec' });
    r.spec = { ...r.spec, paused: true };
    expect(resumePlan(r, VALUE)).toMatchObject({ patch: { spec: { paused: false } }, done: 'resumed (spec.paused set to false)' });
  });

  it('resume sets the resume annotation after an analysis pause, and lifts spec.paused in the same patch if both hold', () => {
    const r = withStatus({ phase: 'Paused', pausedBy: 'analysis' });
    expect(resumePlan(r, VALUE)).toMatchObject({ patch: { metadata: { annotations: { 'canary-operator.dev/resume': VALUE } } }, notes: [] });
    expect(resumePlan(r, VALUE).patch).not.toHaveProperty('spec');
    r.spec = { ...r.spec, paused: true };
    expect(resumePlan(r, VALUE).patch).toEqual({ metadata: { annotations: { 'canary-operator.dev/resume': VALUE } }, spec: { paused: false } });
  });

  it('resume of a release that is not paused changes nothing', () => {
    expect(resumePlan(progressing(), VALUE)).toEqual({ done: 'not paused (spec.paused is not set, phase Progressing); nothing changed', notes: [] });
  });
});
