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

/** DNS-1123 label: Service names and Istio subset names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: object names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const dnsLabel = (what: string) =>
  z
    .string({ error: `must be a string (${what})` })
    .min(1, 'must not be empty')
    .max(63, 'must be at most 63 characters')
    .regex(DNS_LABEL, 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit');

export const objectName = z
  .string({ error: 'must be a string (an object name)' })
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")');

/** Names of rules (VirtualService HTTP routes, HTTPRoute rules) to manage: 1 to 16, each at most 253 characters. */
export const ruleNames = z
  .array(z.string().min(1, 'must not be empty').max(253, 'must be at most 253 characters'))
  .min(1, 'must name at least one route when set')
  .max(16, 'must name at most 16 routes');
