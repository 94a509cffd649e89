// Date arithmetic that cannot throw and cannot be steered by a bad clock.
// Status timestamps come from earlier operator processes (another replica, a
// clock that ran fast) or from a hand edit: an unreadable one counts as
// "unknown", and one in the future counts as now, so no hold can outlast its
// deadline because a clock once ran ahead.

/** The latest instant a JavaScript Date can show; later arithmetic is clamped to it. */
const MAX_MS = 8.64e15;
/**
 * The longest requeue: Node fires a timer set above 2^31-1 ms (24.8 days) after
 * 1 ms instead, so a longer wait (a step of 30 days) is taken in two looks.
 */
export const MAX_DELAY_MS = 24 * 24 * 3_600_000;
/**
 * The shortest requeue. A look aimed at an instant (a step's end, a round's
 * evaluation time) may wake a millisecond before it (Node's timers run on the
 * loop's cached clock) and must then look again at once, not a second late.
 */
export const MIN_DELAY_MS = 100;

/** Milliseconds of an ISO timestamp, at most `now`; undefined when it is missing or unreadable. */
export function timeOf(iso: string | undefined, now: Date): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return undefined;
  return Math.min(t, now.getTime());
}

/** An ISO timestamp for milliseconds, clamped to what a Date can represent. */
export function isoOf(ms: number): string {
  const safe = Number.isFinite(ms) ? Math.max(-MAX_MS, Math.min(MAX_MS, ms)) : 0;
  return new Date(safe).toISOString();
}

/** A requeue delay within [100 ms, 24 days]; undefined stays undefined (no timed requeue). */
export function clampDelay(ms: number | undefined): number | undefined {
  if (ms === undefined) return undefined;
  if (!Number.isFinite(ms)) return ms > 0 ? MAX_DELAY_MS : MIN_DELAY_MS;
  return Math.round(Math.min(MAX_DELAY_MS, Math.max(MIN_DELAY_MS, ms)));
}
