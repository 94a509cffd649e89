// The patches behind the actions. Each action is one JSON merge patch:
// a request annotation with a new unique value, or spec.paused.
import { randomBytes } from 'node:crypto';
import { Phase, isTerminal } from '../api/conditions.js';
import { REQUEST_ANNOTATIONS, type RequestKind } from '../api/names.js';
import type { ReleaseObject } from './release-api.js';

/** A value never used before: the operator acts once per distinct value. */
export function uniqueRequestValue(now: Date = new Date(), random: () => string = () => randomBytes(4).toString('hex')): string {
  return `${now.toISOString()}-${random()}`;
}

export function requestPatch(kind: RequestKind, value: string): Record<string, unknown> {
  return { metadata: { annotations: { [REQUEST_ANNOTATIONS[kind]]: value } } };
}

export function pausedPatch(paused: boolean): Record<string, unknown> {
  return { spec: { paused } };
}

/** What one action will do to a release as it is now. */
export interface ActionPlan {
  /** The merge patch to send; undefined when there is nothing to do. */
  patch?: Record<string, unknown>;
  /** What was done, for the user. */
  done: string;
  /** Things the user should know (the operator will ignore the request, GitOps will revert it, ...). */
  notes: string[];
}

const GITOPS_NOTE =
  'spec.paused is a spec field: if a GitOps tool syncs this release automatically, the value in git wins; to pause from git, commit spec.paused instead';

export function pausePlan(r: ReleaseObject): ActionPlan {
  const phase = r.status?.phase;
  if (r.spec?.paused === true) return { done: 'already paused (spec.paused is true); nothing changed', notes: [] };
  const notes = [GITOPS_NOTE];
  if (isTerminal(phase)) notes.unshift(`the release has ended (${phase}); spec.paused will hold the next release started from the spec`);
  return { patch: pausedPatch(true), done: 'paused (spec.paused set to true): the weights stay where they are', notes };
}

export function resumePlan(r: ReleaseObject, value: string): ActionPlan {
  const st = r.status;
  if (st?.phase === Phase.Paused && st.pausedBy === 'analysis') {
    const patch: Record<string, unknown> = { metadata: { annotations: { [REQUEST_ANNOTATIONS.resume]: value } } };
    const notes: string[] = [];
    if (r.spec?.paused === true) {
      // Both holds at once: one patch lifts both, or the release would stay paused by spec.
      patch.spec = { paused: false };
      notes.push(GITOPS_NOTE);
    }
    return {
      patch,
      done: `resume requested (${REQUEST_ANNOTATIONS.resume}=${value}): analysis paused this release; the operator continues it once${r.spec?.paused === true ? ', and spec.paused set to false' : ''}`,
      notes,
    };
  }
  if (r.spec?.paused !== true) {
    return { done: `not paused (spec.paused is not set${st?.phase ? `, phase ${st.phase}` : ''}); nothing changed`, notes: [] };
  }
  return { patch: pausedPatch(false), done: 'resumed (spec.paused set to false)', notes: [GITOPS_NOTE] };
}

const WHAT: Record<'promote' | 'abort' | 'retry', string> = {
  promote: 'promote requested: all traffic goes to the canary',
  abort: 'abort requested: all traffic goes back to stable',
  retry: 'retry requested: the release starts again from its first step',
};

export function requestPlan(kind: 'promote' | 'abort' | 'retry', r: ReleaseObject, value: string): ActionPlan {
  const phase = r.status?.phase;
  const notes: string[] = [];
  if (kind === 'retry' && phase !== Phase.RolledBack && phase !== Phase.Failed) {
    notes.push(`the release is ${phase ?? 'not started'}: the operator retries only a RolledBack or Failed release and will ignore this (see its RequestIgnored Event)`);
  } else if (kind !== 'retry' && isTerminal(phase)) {
    notes.push(`the release has already ended (${phase}): the operator will ignore this (see its RequestIgnored Event)`);
  } else if (kind === 'promote' && r.status?.conditions?.some((c) => c.type === 'CanaryAvailable' && c.status === 'False')) {
    notes.push('the canary workload is not available: the operator refuses to promote until it is');
  }
  return { patch: requestPatch(kind, value), done: `${WHAT[kind]} (${REQUEST_ANNOTATIONS[kind]}=${value})`, notes };
}
