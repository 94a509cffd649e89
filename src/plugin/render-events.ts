// The release's Events, oldest first, as `kubectl describe` shows them.
import { formatAge, table, toDate } from './format.js';
import type { ReleaseEvent } from './release-api.js';

/** When the event last happened: lastTimestamp, else eventTime, firstTimestamp or creation. */
export function eventTime(e: ReleaseEvent): Date | undefined {
  return toDate(e.lastTimestamp) ?? toDate(e.eventTime) ?? toDate(e.firstTimestamp) ?? toDate(e.metadata?.creationTimestamp);
}

/** The etcd revision of the Event, when it is numeric: orders Events written within the same second. */
function revision(e: ReleaseEvent): number {
  const rv = e.metadata?.resourceVersion;
  return rv && /^[0-9]+$/.test(rv) ? Number(rv) : 0;
}

/** Oldest first (Event times have one-second resolution; the resourceVersion breaks ties); events without any time go first. */
export function sortEvents(events: readonly ReleaseEvent[]): ReleaseEvent[] {
  return events
    .map((e, i) => ({ e, i, t: eventTime(e)?.getTime() ?? -Infinity, rv: revision(e) }))
    .sort((a, b) => a.t - b.t || a.rv - b.rv || a.i - b.i)
    .map((x) => x.e);
}

/** Events of this very object: same name and, when both carry one, the same uid (a re-created release has a new uid). */
export function eventsOf(events: readonly ReleaseEvent[], uid: string | undefined): ReleaseEvent[] {
  return events.filter((e) => !uid || !e.involvedObject?.uid || e.involvedObject.uid === uid);
}

export function renderEvents(events: readonly ReleaseEvent[], now: Date, limit = 10): string[] {
  if (!events.length) return ['Events: none'];
  const sorted = sortEvents(events);
  const shown = sorted.slice(-limit);
  const rows = shown.map((e) => {
    const t = eventTime(e);
    const age = t ? formatAge(now.getTime() - t.getTime()) : '-';
    const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
    return [age, e.type ?? '', e.reason ?? '', `${e.message ?? ''}${count}`];
  });
  const title = sorted.length > shown.length ? `Events (last ${shown.length} of ${sorted.length}):` : 'Events:';
  return [title, ...table(['AGE', 'TYPE', 'REASON', 'MESSAGE'], rows, '  ')];
}
