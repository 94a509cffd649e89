// Repeats of one Event, as client-go's EventCorrelator counts them: the same
// object, type, reason and message within AGGREGATE_MS patch the first
// Event's count and lastTimestamp instead of creating another object. A
// release held for hours then leaves one Event with a count, not hundreds.
// Bounded: the oldest series are forgotten first (a later repeat just creates
// a new Event).
import { createHash } from 'node:crypto';

/** How long a repeat still counts into the same Event (client-go: 10 minutes). */
export const AGGREGATE_MS = 10 * 60_000;
/** Series remembered at most; about 200 bytes each. */
export const MAX_SERIES = 4096;

export interface Series {
  name: string;
  count: number;
  lastMs: number;
}

export class EventSeries {
  private readonly byKey = new Map<string, Series>();

  constructor(private readonly max = MAX_SERIES) {}

  /** The series this Event repeats, still within AGGREGATE_MS of its last repeat. */
  repeatOf(key: string, nowMs: number): Series | undefined {
    const s = this.byKey.get(key);
    if (!s) return undefined;
    if (nowMs - s.lastMs > AGGREGATE_MS || nowMs < s.lastMs - AGGREGATE_MS) {
      this.byKey.delete(key);
      return undefined;
    }
    return s;
  }

  /** Remembers a created or counted Event (most recent last, so the oldest go first). */
  remember(key: string, s: Series): void {
    this.byKey.delete(key);
    this.byKey.set(key, s);
    while (this.byKey.size > this.max) this.byKey.delete(this.byKey.keys().next().value as string);
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}

/**
 * What makes two Events the same: object (by uid), type, reason and message,
 * kept as a digest of them. A message may be 1,024 characters, and the key
 * lives as long as its series: the digest keeps a series at about 200 bytes.
 */
export const seriesKey = (namespace: string, name: string, uid: string | undefined, type: string, reason: string, message: string): string =>
  createHash('sha256').update(JSON.stringify([namespace, name, uid ?? '', type, reason, message])).digest('base64url');
