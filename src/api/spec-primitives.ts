// Field types shared by the spec schemas, with the bounds the CRD schema
// states too: every number and duration a tenant can set has a limit, so no
// value can overflow a timer, a Date or the operator's work.
import { z } from 'zod';
import { DURATION_PATTERN, formatDuration, parseDuration } from '../core/duration.js';

/** Longest duration string accepted ("1h30m15.5s" needs 10). */
export const DURATION_MAX_LENGTH = 32;
export const DAY_MS = 86_400_000;
/** The longest any duration of a release may be: timers beyond 2^31-1 ms (24.8 days) would fire at once. */
export const MAX_DURATION_MS = 30 * DAY_MS;

const DURATION_HINT = 'must be a duration such as "30s", "2m" or "1m30s" (units ms, s, m, h)';

/** A Go-style duration between `minMs` and `maxMs` inclusive. */
export function boundedDuration(minMs = 0, maxMs = MAX_DURATION_MS) {
  const range = minMs > 0 ? `between ${formatDuration(minMs)} and ${formatDuration(maxMs)}` : `at most ${formatDuration(maxMs)}`;
  return z
    .string({ error: "must be a duration string such as \"30s\", \"2m\" or \"1m30s\"" })
    .max(DURATION_MAX_LENGTH, `${DURATION_HINT}, at most ${DURATION_MAX_LENGTH} characters`)
    .regex(new RegExp(DURATION_PATTERN), DURATION_HINT)
    .refine((s) => {
      const ms = parseDuration(s);
      return ms !== undefined && ms >= minMs && ms <= maxMs;
    }, `must be ${range}`);
}

/** Any duration of a release: 0 to 30 days. */
export const durationString = boundedDuration();
