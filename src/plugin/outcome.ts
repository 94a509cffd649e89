// Whether a release has ended, how, and the exit code that says so. A phase
// counts only once the operator has caught up: it has observed the current
// spec generation and every request annotation set on the release.
import { REQUEST_ANNOTATIONS, REQUEST_KINDS, type RequestKind } from '../api/names.js';
import { ConditionType, Phase, Reason } from '../api/conditions.js';
import { ExitCode } from './errors.js';
import type { ReleaseObject } from './release-api.js';

export type Outcome =
  | { ended: true; phase: typeof Phase.Succeeded | typeof Phase.RolledBack | typeof Phase.Failed; exitCode: ExitCode; summary: string }
  | { ended: false; summary: string };

/** Request annotations whose value the operator has not acted on yet. */
export function pendingRequests(r: ReleaseObject): RequestKind[] {
  const annotations = r.metadata.annotations ?? {};
  const handled = r.status?.handledRequests ?? {};
  return REQUEST_KINDS.filter((k) => {
    const v = annotations[REQUEST_ANNOTATIONS[k]];
    return v !== undefined && v !== '' && v !== handled[k];
  });
}

/** Why the status may not reflect the object yet; undefined when the operator is caught up. */
export function staleness(r: ReleaseObject): string | undefined {
  if (!r.status || (r.status.phase === undefined && r.status.observedGeneration === undefined)) {
    return 'the operator has not reported any status yet';
  }
  const generation = r.metadata.generation;
  const observed = r.status.observedGeneration;
  if (generation !== undefined && (observed === undefined || observed < generation)) {
    return `the status is of spec generation ${observed ?? '?'}, the spec is at generation ${generation}: the operator has not caught up yet`;
  }
  const pending = pendingRequests(r);
  if (pending.length) return `the ${pending.join(' and ')} request${pending.length > 1 ? 's are' : ' is'} not handled by the operator yet`;
  return undefined;
}

const ref = (r: ReleaseObject) => `canaryrelease ${r.metadata.namespace}/${r.metadata.name}`;

export function releaseOutcome(r: ReleaseObject): Outcome {
  const st = r.status;
  const stale = staleness(r);
  const phase = st?.phase;
  const message = st?.message ? `: ${st.message}` : '';
  if (stale || !phase) return { ended: false, summary: `${ref(r)} is ${phase ?? 'not started'}${stale ? ` (${stale})` : ''}${message}` };
  if (phase === Phase.Succeeded) return { ended: true, phase, exitCode: ExitCode.Ok, summary: `${ref(r)} Succeeded${message}` };
  if (phase === Phase.RolledBack || phase === Phase.Failed) {
    const reason = st?.conditions?.find((c) => c.type === ConditionType.Progressing)?.reason;
    const noVerdict = reason === Reason.AnalysisInconclusive || reason === Reason.MetricsUnavailable;
    return {
      ended: true, phase, exitCode: noVerdict ? ExitCode.NoVerdict : ExitCode.ReleaseFailed,
      summary: `${ref(r)} ${phase}${noVerdict ? ' without a verdict' : ''}${message}`,
    };
  }
  return { ended: false, summary: `${ref(r)} is ${phase}${stepText(r)}${message}` };
}

function stepText(r: ReleaseObject): string {
  const st = r.status;
  if (!st?.totalSteps) return '';
  return ` at step ${st.currentStep ?? 0}/${st.totalSteps} (${st.canaryWeight ?? 0}% on ${st.canarySubset ?? 'the canary'})`;
}
