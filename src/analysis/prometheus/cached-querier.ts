// Memoizes query results per (address, PromQL, evaluation time) so every
// release evaluated in one analysis round shares one HTTP request per distinct
// query: the grouped queries in queries.ts are identical across releases, and
// so is their round's time. A result is only ever shared within its round:
// a later round has a later time, hence another key, so no round is handed
// data older than itself. One cache serves every interval.
import type { MetricsQuerier, QueryResult } from './client.js';

/** How often expired entries are looked for (each look walks the few entries a round makes). */
const SWEEP_EVERY_MS = 5000;

export interface CachedQuerierOptions {
  /** How long a successful result is kept (a round's releases are evaluated well within it). */
  ttlMs: number;
  /** How long a failure is reused: short, so a blip does not stick, but a down Prometheus is not hammered. */
  errorTtlMs?: number;
  /** Injected clock (ms) for tests. */
  now?: () => number;
}

interface Entry {
  promise: Promise<QueryResult>;
  /** undefined while the request is in flight: everyone asking meanwhile joins it. */
  expiresAt: number | undefined;
}

export class CachedQuerier implements MetricsQuerier {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly errorTtlMs: number;
  private readonly now: () => number;
  private sent = 0;
  private lastSweep: number;

  constructor(
    private readonly inner: MetricsQuerier,
    options: CachedQuerierOptions,
  ) {
    this.ttlMs = options.ttlMs;
    this.errorTtlMs = options.errorTtlMs ?? Math.min(1000, options.ttlMs);
    this.now = options.now ?? Date.now;
    this.lastSweep = this.now();
  }

  /** Queries actually passed to the wrapped querier (cache misses). */
  get queriesSent(): number {
    return this.sent;
  }

  /** Entries held, including expired ones not yet swept. */
  get size(): number {
    return this.entries.size;
  }

  query(address: string, promql: string, timeoutMs: number, at?: Date): Promise<QueryResult> {
    const now = this.now();
    this.sweep(now);
    // NUL cannot occur in a URL, so the key is unambiguous.
    const key = `${address}\u0000${promql}\u0000${at?.getTime() ?? ''}`;
    const cached = this.entries.get(key);
    if (cached !== undefined && (cached.expiresAt === undefined || now < cached.expiresAt)) return cached.promise;

    this.sent++;
    const entry: Entry = { promise: this.inner.query(address, promql, timeoutMs, at), expiresAt: undefined };
    this.entries.set(key, entry);
    entry.promise.then(
      (result) => {
        entry.expiresAt = this.now() + (result.ok ? this.ttlMs : this.errorTtlMs);
      },
      // A querier that throws breaks its contract; do not keep the rejection around.
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.promise;
  }

  /**
   * Drops expired entries, at most every SWEEP_EVERY_MS (or TTL, when shorter): custom per-release queries do
   * not pile up, and a round's grouped results (a series for every running release's Services) are let go soon
   * after they expire, not up to a TTL later.
   */
  private sweep(now: number): void {
    if (now - this.lastSweep < Math.min(this.ttlMs, SWEEP_EVERY_MS)) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== undefined && now >= entry.expiresAt) this.entries.delete(key);
    }
  }
}
