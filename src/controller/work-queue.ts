// A keyed work queue in the manner of client-go's: a key waits at most once,
// is never processed by two workers at once (a key added while it is being
// processed runs again afterwards), failures back off exponentially, and
// timed requeues wake a key later. Keys sharing a group (a route both name)
// are never processed at once either: one release deciding while another
// writes could let both believe they own the route. A key may belong to
// several groups (a release naming a new route while its old one is being
// restored) and waits until all are free. Other groups go on meanwhile, so
// one route, or one namespace, cannot hold the workers.
// Keys wait in three tiers, each first come, first served:
//   first: a timed look whose time has come (retries after a failure too),
//          or a finished round that did not pass. A timed look usually
//          starts its release's analysis round: each round waits for its
//          start, so one kept behind other work delays its result and every
//          step or rollback that waits for it. A round that did not pass
//          may roll back: it must not wait behind a wave of promotions;
//   due:   the other finished rounds and preflights (a step that may advance);
//   event: keys added by watch events (new releases, the echoes of the
//          operator's own writes).
// So a step or a rollback that is due is not kept behind a burst of new
// releases, and a rollback not behind a burst of steps. An event key gives
// way to due keys for a while only (eventYieldMs): it then waits as if it
// had become due that much later. Under a load that keeps the due tier
// from emptying (a wave of steps on a busy API server), a new release
// still gets its first look, and waits at most that much longer than the
// steps around it, instead of until the wave has passed.
export interface WorkQueueOptions {
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Keys sharing a group are never processed at once; default: every key is its own group. */
  groupOf?: (key: string) => string | readonly string[];
  /** How long an event key gives way to due keys (default 2 s, bounds in EVENT_YIELD_MS_BOUNDS). */
  eventYieldMs?: number;
  /** A monotonic clock in ms (default performance.now: a wall clock jump must not reorder the queue). */
  now?: () => number;
}

/** How long an event key gives way to due keys, by default: the first-step goal of the README's benchmark. */
export const DEFAULT_EVENT_YIELD_MS = 2_000;
/** eventYieldMs must lie in these bounds (0: event keys wait in line with due keys). */
export const EVENT_YIELD_MS_BOUNDS = { min: 0, max: 10 * 60_000 } as const;

/** Where a key waits: 0 first, 1 due, 2 event (see the top of this file). */
type Tier = 0 | 1 | 2;
const FIRST: Tier = 0;
const DUE: Tier = 1;
const EVENT: Tier = 2;

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class WorkQueue {
  /** The first tier in the order added, then due and event keys together, by when each is to go (`goesAt`). */
  private readonly queue: string[] = [];
  /** The tier of each queued key. */
  private readonly tierOf = new Map<string, Tier>();
  /** When each due or event key is to go: a due key when it was added, an event key eventYieldMs after. */
  private readonly goesAt = new Map<string, number>();
  /** Queued keys per tier. */
  private readonly perTier: [number, number, number] = [0, 0, 0];
  private readonly processing = new Set<string>();
  /** Keys added while being processed, with the best tier they were added at: they go back in line after done(). */
  private readonly dirtyWhileProcessing = new Map<string, Tier>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  /** Workers waiting for a key; `dueOnly` ones take only keys whose time has come. */
  private readonly waiters: { dueOnly: boolean; resolve: (key: string | undefined) => void }[] = [];
  private readonly busyGroups = new Map<string, number>();
  /** The groups each key in processing holds (as they were when it was taken). */
  private readonly held = new Map<string, readonly string[]>();
  private shuttingDown = false;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly groupOf: (key: string) => string | readonly string[];
  private readonly eventYieldMs: number;
  private readonly now: () => number;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseBackoffMs = opts.baseBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5 * 60_000;
    this.groupOf = opts.groupOf ?? ((key) => key);
    const yieldMs = opts.eventYieldMs ?? DEFAULT_EVENT_YIELD_MS;
    if (!(yieldMs >= EVENT_YIELD_MS_BOUNDS.min && yieldMs <= EVENT_YIELD_MS_BOUNDS.max)) {
      throw new Error(`eventYieldMs must be between ${EVENT_YIELD_MS_BOUNDS.min} and ${EVENT_YIELD_MS_BOUNDS.max}, got ${yieldMs}`);
    }
    this.eventYieldMs = yieldMs;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Keys waiting to be processed (for the queue-depth metric). */
  get depth(): number {
    return this.queue.length;
  }

  /** Adds a key for a watch event: it waits behind the keys whose time has come, for eventYieldMs at most. */
  add(key: string): void {
    this.enqueue(key, EVENT);
  }

  /** Adds a key whose round or preflight finished: it waits ahead of keys added by events. */
  addDue(key: string): void {
    this.enqueue(key, DUE);
  }

  /** Adds a key ahead of all others: its timed look has come, or a round it waited for did not pass. */
  addFirst(key: string): void {
    this.enqueue(key, FIRST);
  }

  /** Keys waiting in the first and due tiers (for tests and metrics). */
  get dueDepth(): number {
    return this.perTier[FIRST] + this.perTier[DUE];
  }

  private enqueue(key: string, tier: Tier): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.set(key, Math.min(tier, this.dirtyWhileProcessing.get(key) ?? EVENT) as Tier);
      return;
    }
    const was = this.tierOf.get(key);
    // A key waits once, at the best place it was added for.
    if (was !== undefined && was <= tier) return;
    const wasGoingAt = this.goesAt.get(key);
    if (was !== undefined) {
      this.queue.splice(this.queue.indexOf(key), 1);
      this.perTier[was]--;
      this.goesAt.delete(key);
    }
    if (tier === FIRST) this.queue.splice(this.perTier[FIRST], 0, key);
    else {
      // An event key that becomes due keeps its place if that is sooner (it may have waited its yield out).
      const goes = Math.min(this.now() + (tier === EVENT ? this.eventYieldMs : 0), wasGoingAt ?? Infinity);
      let at = this.queue.length;
      while (at > this.perTier[FIRST] && (this.goesAt.get(this.queue[at - 1] as string) as number) > goes) at--;
      this.queue.splice(at, 0, key);
      this.goesAt.set(key, goes);
    }
    this.tierOf.set(key, tier);
    this.perTier[tier]++;
    this.dispatch();
  }

  private groupsOf(key: string): readonly string[] {
    const g = this.groupOf(key);
    return typeof g === 'string' ? [g] : g;
  }

  /**
   * The first waiting key whose groups are all free, taken out of the queue
   * and marked processing. A group a key ahead still waits for counts as
   * taken, so a key that needs two groups is not passed by a stream of keys
   * that each need one of them (first come, first served within a group).
   * An event key a due-only worker may not take still holds its groups for
   * itself: otherwise that worker's due keys could pass it in its group for
   * as long as they keep coming.
   */
  private take(dueOnly = false): string | undefined {
    let groups: readonly string[] = [];
    const waitedFor = new Set<string>();
    const i = this.queue.findIndex((k) => {
      groups = this.groupsOf(k);
      if (!(dueOnly && this.tierOf.get(k) === EVENT) && groups.every((g) => !this.busyGroups.has(g) && !waitedFor.has(g))) return true;
      for (const g of groups) waitedFor.add(g);
      return false;
    });
    if (i < 0) return undefined;
    const [key] = this.queue.splice(i, 1) as [string];
    this.perTier[this.tierOf.get(key) as Tier]--;
    this.tierOf.delete(key);
    this.goesAt.delete(key);
    this.processing.add(key);
    this.held.set(key, groups);
    for (const g of groups) this.busyGroups.set(g, (this.busyGroups.get(g) ?? 0) + 1);
    return key;
  }

  /**
   * Whether a key being processed still belongs to exactly the groups it was
   * handed out with. Its object may have changed in between (a watch event
   * handled in the same tick, naming another route): the caller then puts it
   * back (addFirst, then done) instead of acting under groups that no longer
   * cover it. Checked in the same synchronous step as the reconcile's read.
   */
  holdsItsGroups(key: string): boolean {
    const held = this.held.get(key);
    const now = this.groupsOf(key);
    return held !== undefined && held.length === now.length && now.every((g) => held.includes(g));
  }

  private dispatch(): void {
    // First come, first served; a due-only worker that finds nothing due lets the next one look.
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i] as (typeof this.waiters)[number];
      const key = this.take(w.dueOnly);
      if (key === undefined) {
        if (!w.dueOnly) return;
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      w.resolve(key);
    }
  }

  /** Adds the key after a delay; an earlier pending wake-up for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) return this.addFirst(key);
    // Node fires a timer above 2^31-1 ms after 1 ms: wake early instead, the reconcile asks again.
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    // The monotonic clock: with the wall clock, one set back would let a later wake-up replace a sooner one.
    const at = this.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.addFirst(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /**
   * What a key's last reconcile asked for: a look after `delayMs`, or none.
   * It replaces any pending wake-up: that one was asked for by a decision this
   * one supersedes (level-based: the latest look knows what is due).
   */
  lookAgainAfter(key: string, delayMs: number | undefined): void {
    const existing = this.timers.get(key);
    if (existing) {
      clearTimeout(existing.timer);
      this.timers.delete(key);
    }
    if (delayMs !== undefined) this.addAfter(key, delayMs);
  }

  /** Requeues after an exponentially growing, jittered delay; returns the delay. */
  addRateLimited(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const raw = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (n - 1));
    const delay = Math.round(raw * (0.8 + Math.random() * 0.4));
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the failure count after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /**
   * Waits for the next key; undefined once the queue shuts down. With `dueOnly`, only a key of the first or
   * due tier (a timed wake-up, a finished round): a worker kept for those is never behind a burst of event keys.
   */
  get(opts: { dueOnly?: boolean } = {}): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const dueOnly = opts.dueOnly ?? false;
    const key = this.take(dueOnly);
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push({ dueOnly, resolve }));
  }

  /** Marks a key finished; if it was added meanwhile, it goes back in line. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    for (const g of this.held.get(key) ?? []) {
      const left = (this.busyGroups.get(g) ?? 1) - 1;
      if (left > 0) this.busyGroups.set(g, left);
      else this.busyGroups.delete(g);
    }
    this.held.delete(key);
    const again = this.dirtyWhileProcessing.get(key);
    this.dirtyWhileProcessing.delete(key);
    // A round that finished during the key's own reconcile is still due: it keeps its tier.
    if (again !== undefined) this.enqueue(key, again);
    else this.dispatch();
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w.resolve(undefined);
  }

  /** Whether any key is being processed (graceful shutdown waits for this). */
  get busy(): boolean {
    return this.processing.size > 0;
  }
}
