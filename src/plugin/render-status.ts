// `kubectl canary status`: everything about one release on one screen.
import { Phase } from '../api/conditions.js';
import { REQUEST_ANNOTATIONS } from '../api/names.js';
import { ageOf, table } from './format.js';
import { pendingRequests, staleness } from './outcome.js';
import type { ReleaseEvent, ReleaseObject } from './release-api.js';
import { renderEvents } from './render-events.js';
import { renderGates } from './render-gates.js';

export interface Weights {
  stable: { subset: string; weight: number };
  canary: { subset: string; weight: number };
}

/** The stable/canary split of the managed route's stable+canary share, per status.canaryWeight. */
export function weightsOf(r: ReleaseObject): Weights {
  const canary = Math.min(100, Math.max(0, r.status?.canaryWeight ?? 0));
  return {
    stable: { subset: r.status?.stableSubset ?? r.spec?.stable?.subset ?? r.spec?.stable?.service ?? 'stable', weight: 100 - canary },
    canary: { subset: r.status?.canarySubset ?? r.spec?.canary?.subset ?? r.spec?.canary?.service ?? 'canary', weight: canary },
  };
}

export function stepOf(r: ReleaseObject): string {
  const st = r.status;
  return st?.totalSteps ? `${st.currentStep ?? 0}/${st.totalSteps}` : '-';
}

const when = (t: string | undefined, now: Date) => (t ? `${t} (${ageOf(t, now)} ago)` : undefined);

export function renderStatus(r: ReleaseObject, events: readonly ReleaseEvent[], now: Date): string {
  const st = r.status ?? {};
  const w = weightsOf(r);
  const field = (label: string, value: string | undefined) => (value === undefined ? [] : [`  ${`${label}:`.padEnd(13)}${value}`]);
  const lines: string[] = [`CanaryRelease ${r.metadata.namespace}/${r.metadata.name}`];

  lines.push(...field('Phase', st.phase ?? 'not started (no status yet)'));
  lines.push(...field('Step', stepOf(r)));
  lines.push(...field('Weights', `${w.stable.subset} (stable) ${w.stable.weight}%   ${w.canary.subset} (canary) ${w.canary.weight}%`));
  lines.push(...field('Message', st.message));
  if (st.phase === Phase.Paused) {
    const by = st.pausedBy === 'analysis' ? 'analysis (a person decides: resume, promote or abort)' : 'spec.paused';
    lines.push(...field('Paused', `by ${by}${st.pausedAt ? ` since ${when(st.pausedAt, now)}` : ''}`));
  } else if (r.spec?.paused === true) {
    lines.push(...field('Paused', 'spec.paused is true; the operator has not paused the release yet'));
  }
  lines.push(...field('Started', when(st.releaseStartedAt, now)));
  lines.push(...field('Step since', st.phase === Phase.Progressing ? when(st.stepStartedAt, now) : undefined));
  lines.push(...field('Waiting', st.canaryWaitingSince ? `for the canary workload since ${when(st.canaryWaitingSince, now)}` : undefined));
  lines.push(...field('Completed', when(st.completedAt, now)));
  const pending = pendingRequests(r);
  if (pending.length) {
    const annotations = r.metadata.annotations ?? {};
    lines.push(...field('Requests', pending.map((k) => `${k} (${annotations[REQUEST_ANNOTATIONS[k]]})`).join(', ') + ' not handled yet'));
  }
  const stale = staleness(r);
  if (stale && r.status && !pending.length) lines.push(...field('Note', stale));
  const next = nextCommands(r);
  if (next) lines.push(...field(next.label, next.commands[0]), ...next.commands.slice(1).map((c) => `${' '.repeat(15)}${c}`));

  const conditions = st.conditions ?? [];
  lines.push('');
  if (conditions.length) {
    lines.push('Conditions:');
    lines.push(...table(['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'], conditions.map((c) => [c.type, c.status, c.reason, ageOf(c.lastTransitionTime, now), c.message]), '  '));
  } else {
    lines.push('Conditions: none');
  }

  const gates = renderGates(st.analysis, r.spec?.analysis?.gates, now, r.spec?.analysis?.onFailure);
  if (gates.length) lines.push('', ...gates);

  lines.push('', ...renderEvents(events, now));
  return lines.join('\n');
}

/** One line per state, for `watch --plain`: printed only when it changes. */
export function renderStatusLine(r: ReleaseObject): string {
  const st = r.status ?? {};
  const w = weightsOf(r);
  const gates = st.analysis ? `  gates ${st.analysis.verdict}` : '';
  return `${(st.phase ?? 'NoStatus').padEnd(11)} step ${stepOf(r).padEnd(5)} ${w.stable.subset}=${w.stable.weight}% ${w.canary.subset}=${w.canary.weight}%${gates}  ${st.message ?? ''}`.trimEnd();
}

/** What a person would type next, one whole command per line, pasteable as is. */
export function nextCommands(r: ReleaseObject): { label: string; commands: string[] } | undefined {
  const st = r.status;
  const cmd = (action: string) => `kubectl canary ${action} ${r.metadata.name} -n ${r.metadata.namespace}`;
  if (pendingRequests(r).length) return undefined;
  if (st?.phase === Phase.Paused && st.pausedBy === 'analysis') return { label: 'Decide', commands: ['resume', 'promote', 'abort'].map(cmd) };
  if (st?.phase === Phase.Paused || r.spec?.paused === true) return { label: 'Resume', commands: [cmd('resume')] };
  if (st?.phase === Phase.RolledBack || st?.phase === Phase.Failed) return { label: 'Retry', commands: [cmd('retry')] };
  return undefined;
}
