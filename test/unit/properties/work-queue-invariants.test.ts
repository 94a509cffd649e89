// Property-based tests of the work queue: random sequences of adds at the
// three tiers, looks asked for at once, gets by general and due-only workers,
// finished reconciles and the passing of time. The first property checks
// every hand-out against a small reference model of the tiers (first come,
// first served within a tier, an event key waiting as if due once it has
// given way for eventYieldMs, a key waits once at the best tier it was added
// for, a key added while processed comes back at that tier). The second adds groups (keys of one
// namespace, and keys in two namespaces at once) and checks what must never
// happen: a key or a group processed twice at once, an event key taken by a
// due-only worker, a key added and then never processed. The third drives
// timed wake-ups (addAfter, lookAgainAfter, shutDown) on fake timers while
// the wall clock is set back and forth, against a model of when each key is
// to wake on the monotonic clock.
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import fc from 'fast-check';
import { WorkQueue } from '../../../src/controller/work-queue.js';

// 2,000 by default: cheap here (a few seconds), and 400 missed a planted demotion bug in some runs.
const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

type Tier = 0 | 1 | 2;
type Op =
  | { kind: 'add'; key: string; tier: Tier }
  | { kind: 'now'; key: string }
  | { kind: 'finish'; worker: number }
  | { kind: 'tick'; ms: number };

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** A worker: waits for a key, holds it until told to finish, then waits again. */
interface Worker {
  dueOnly: boolean;
  holding?: string | undefined;
}

function addTo(q: WorkQueue, op: Extract<Op, { kind: 'add' }>): void {
  if (op.tier === 0) q.addFirst(op.key);
  else if (op.tier === 1) q.addDue(op.key);
  else q.add(op.key);
}

/**
 * The queue's rules, written plainly rather than as the queue keeps them: each
 * waiting key has the tier and the sequence number of the add that put it
 * there, and a due or event key the time it goes at (when added, plus the
 * yield for an event key; an event key that becomes due keeps the sooner).
 * A get takes a first-tier key by least sequence, else the least (goes at,
 * sequence) among the tiers it may take. An add for a tier no better than
 * the key's own changes nothing; a key added while processed waits, after
 * done, at the best tier it was added for. Waiting workers are served in the
 * order they came, and a due-only one that finds nothing for it lets the
 * next one look.
 */
class ReferenceQueue {
  private readonly waiting = new Map<string, { tier: Tier; seq: number; goes: number }>();
  private seq = 0;
  constructor(private readonly clock: () => number, private readonly yieldMs: number) {}
  private readonly processing = new Set<string>();
  private readonly dirty = new Map<string, Tier>();
  private readonly waiters: { dueOnly: boolean; give: (key: string) => void }[] = [];

  enqueue(key: string, tier: Tier): void {
    if (this.processing.has(key)) {
      this.dirty.set(key, Math.min(tier, this.dirty.get(key) ?? 2) as Tier);
      return;
    }
    const was = this.waiting.get(key);
    if (was !== undefined && was.tier <= tier) return;
    const goes = Math.min(this.clock() + (tier === 2 ? this.yieldMs : 0), was?.goes ?? Infinity);
    this.waiting.set(key, { tier, seq: ++this.seq, goes });
    this.serveWaiters();
  }

  private take(dueOnly: boolean): string | undefined {
    type W = { tier: Tier; seq: number; goes: number };
    const before = (a: W, b: W) => (a.tier === 0 || b.tier === 0
      ? (a.tier === 0 ? 0 : 1) - (b.tier === 0 ? 0 : 1) || a.seq - b.seq
      : a.goes - b.goes || a.seq - b.seq) < 0;
    let best: [string, W] | undefined;
    for (const entry of this.waiting) {
      const [, w] = entry;
      if (dueOnly && w.tier === 2) continue;
      if (!best || before(w, best[1])) best = entry;
    }
    if (!best) return undefined;
    this.waiting.delete(best[0]);
    this.processing.add(best[0]);
    return best[0];
  }

  private serveWaiters(): void {
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      const key = this.take(w.dueOnly);
      if (key === undefined) {
        if (!w.dueOnly) return;
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      w.give(key);
    }
  }

  get(dueOnly: boolean, give: (key: string) => void): void {
    const key = this.take(dueOnly);
    if (key !== undefined) give(key);
    else this.waiters.push({ dueOnly, give });
  }

  done(key: string): void {
    this.processing.delete(key);
    const again = this.dirty.get(key);
    this.dirty.delete(key);
    if (again !== undefined) this.enqueue(key, again);
    else this.serveWaiters();
  }

  get depth(): number {
    return this.waiting.size;
  }
}

const ops = (keys: readonly string[], workers: number): fc.Arbitrary<Op[]> => fc.array(fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom(...keys), tier: fc.constantFrom<Tier>(0, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('now' as const), key: fc.constantFrom(...keys) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('finish' as const), worker: fc.integer({ min: 0, max: workers - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1_500 }) }) },
), { maxLength: 60 });

/** Starts a get for worker i on both queues; the keys they hand out land in `got`. */
function startWorker(q: WorkQueue, workers: Worker[], i: number, got: Map<number, string>): void {
  void q.get({ dueOnly: workers[i]!.dueOnly }).then((key) => {
    if (key !== undefined) got.set(i, key);
  });
}

describe('WorkQueue invariants', () => {
  test('every key is handed out in the order of the reference model: tier, then first come, first served, event keys as if due once they gave way', async () => {
    const keys = ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e'];
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.constantFrom(0, 1_000, 2_000), ops(keys, 4), async (general, withDueOnly, eventYieldMs, sequence) => {
      const workers: Worker[] = [...Array.from({ length: general }, () => ({ dueOnly: false })), ...(withDueOnly ? [{ dueOnly: true }] : [])];
      let clock = 0;
      const q = new WorkQueue({ eventYieldMs, now: () => clock });
      const ref = new ReferenceQueue(() => clock, eventYieldMs);
      const got = new Map<number, string>();
      const expected = new Map<number, string>();
      const receive = async () => {
        await flush();
        for (const [i, key] of got) workers[i]!.holding = key;
        got.clear();
        for (let i = 0; i < workers.length; i++) expect(workers[i]!.holding).toBe(expected.get(i));
        expect(q.depth).toBe(ref.depth);
      };
      workers.forEach((_, i) => {
        startWorker(q, workers, i, got);
        ref.get(workers[i]!.dueOnly, (key) => expected.set(i, key));
      });
      await receive();
      for (const op of sequence) {
        if (op.kind === 'add') {
          addTo(q, op);
          ref.enqueue(op.key, op.tier);
        } else if (op.kind === 'now') {
          q.addAfter(op.key, 0);
          ref.enqueue(op.key, 0);
        } else if (op.kind === 'tick') {
          clock += op.ms;
        } else {
          const i = op.worker % workers.length;
          const key = workers[i]!.holding;
          if (key === undefined) continue;
          workers[i]!.holding = undefined;
          expected.delete(i);
          q.done(key);
          ref.done(key);
          startWorker(q, workers, i, got);
          ref.get(workers[i]!.dueOnly, (k) => expected.set(i, k));
        }
        await receive();
      }
      q.shutDown();
    }), { numRuns: RUNS });
  });

  test('with groups: no key or group is processed twice at once, due-only workers take no event key, and every added key is processed', async () => {
    // One group per namespace; ns1/ns2x belongs to two (a release naming its route and a replaced one).
    const groups: Record<string, string[]> = { 'ns1/a': ['ns1'], 'ns1/b': ['ns1'], 'ns2/c': ['ns2'], 'ns1/ns2x': ['ns1', 'ns2'], 'ns3/d': ['ns3'] };
    const keys = Object.keys(groups);
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.boolean(), ops(keys, 4), async (general, withDueOnly, sequence) => {
      const workers: Worker[] = [...Array.from({ length: general }, () => ({ dueOnly: false })), ...(withDueOnly ? [{ dueOnly: true }] : [])];
      let clock = 0;
      const q = new WorkQueue({ groupOf: (key) => groups[key] ?? [key], eventYieldMs: 1_000, now: () => clock });
      const got = new Map<number, string>();
      /** Keys added since they were last handed out, and the best tier they were added at. */
      const owed = new Map<string, Tier>();
      const check = async () => {
        await flush();
        for (const [i, key] of got) {
          const w = workers[i]!;
          expect(w.holding).toBeUndefined();
          // Only a key that was added (and not handed out since) is handed out, and a due-only worker takes no event key.
          expect(owed.has(key)).toBe(true);
          if (w.dueOnly) expect(owed.get(key)).toBeLessThan(2);
          owed.delete(key);
          w.holding = key;
        }
        got.clear();
        const held = workers.map((w) => w.holding).filter((k): k is string => k !== undefined);
        expect(new Set(held).size).toBe(held.length);
        const heldGroups = held.flatMap((k) => groups[k]!);
        expect(new Set(heldGroups).size).toBe(heldGroups.length);
      };
      const owe = (key: string, tier: Tier) => owed.set(key, Math.min(tier, owed.get(key) ?? 2) as Tier);
      workers.forEach((_, i) => startWorker(q, workers, i, got));
      for (const op of sequence) {
        if (op.kind === 'add') {
          addTo(q, op);
          owe(op.key, op.tier);
        } else if (op.kind === 'now') {
          q.addAfter(op.key, 0);
          owe(op.key, 0);
        } else if (op.kind === 'tick') {
          clock += op.ms;
        } else {
          const i = op.worker % workers.length;
          const key = workers[i]!.holding;
          if (key === undefined) continue;
          workers[i]!.holding = undefined;
          q.done(key);
          startWorker(q, workers, i, got);
        }
        await check();
      }
      // Drain: workers finish whatever they hold until nothing is left; every key owed is processed.
      for (let round = 0; round < 100 && (owed.size > 0 || workers.some((w) => w.holding)); round++) {
        workers.forEach((w, i) => {
          if (w.holding === undefined) return;
          const key = w.holding;
          w.holding = undefined;
          q.done(key);
          startWorker(q, workers, i, got);
        });
        await check();
        // Event keys left with only due-only workers would wait for a general one: there is always one here.
      }
      expect([...owed.keys()]).toEqual([]);
      expect(q.depth).toBe(0);
      q.shutDown();
    }), { numRuns: RUNS });
  });

  test('timed wake-ups: a key is added exactly when its soonest asked-for look comes, whatever the wall clock does, and nothing after shutDown', () => {
    type TimedOp =
      | { kind: 'after'; key: string; ms: number }
      | { kind: 'again'; key: string; ms: number | undefined }
      | { kind: 'tick'; ms: number }
      | { kind: 'wall'; ms: number }
      | { kind: 'shutDown' };
    const keys = ['ns/a', 'ns/b', 'ns/c'];
    const delay = fc.oneof(fc.integer({ min: -10, max: 5_000 }), fc.constant(2 ** 40));
    const timedOps = fc.array(fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('after' as const), key: fc.constantFrom(...keys), ms: delay }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('again' as const), key: fc.constantFrom(...keys), ms: fc.option(delay, { nil: undefined }) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3_000 }) }) },
      // The wall clock set back or forward by up to a day; timers and the monotonic clock go on.
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('wall' as const), ms: fc.integer({ min: -86_400_000, max: 86_400_000 }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'shutDown' as const }) },
    ), { maxLength: 40 });
    const MAX_TIMER_MS = 2 ** 31 - 1;
    fc.assert(fc.property(timedOps, (sequence) => {
      jest.useFakeTimers({ now: new Date('2026-12-04T12:00:00.000Z') });
      const q = new WorkQueue();
      let clock = 0;
      let down = false;
      /** When each key is to wake (model clock), and which keys have been added. */
      const wakeAt = new Map<string, number>();
      const added = new Set<string>();
      const fire = () => {
        for (const [key, at] of wakeAt) {
          if (at > clock) continue;
          wakeAt.delete(key);
          added.add(key);
        }
      };
      const after = (key: string, ms: number) => {
        if (down) return;
        if (!(ms > 0)) {
          added.add(key);
          return;
        }
        const at = clock + Math.min(ms, MAX_TIMER_MS);
        if ((wakeAt.get(key) ?? Infinity) > at) wakeAt.set(key, at);
      };
      for (const op of sequence) {
        if (op.kind === 'after') {
          q.addAfter(op.key, op.ms);
          after(op.key, op.ms);
        } else if (op.kind === 'again') {
          q.lookAgainAfter(op.key, op.ms);
          wakeAt.delete(op.key);
          if (op.ms !== undefined) after(op.key, op.ms);
        } else if (op.kind === 'tick') {
          jest.advanceTimersByTime(op.ms);
          clock += op.ms;
          fire();
        } else if (op.kind === 'wall') {
          jest.setSystemTime(Date.now() + op.ms);
        } else {
          q.shutDown();
          down = true;
          wakeAt.clear();
        }
        expect(q.depth).toBe(added.size);
        expect(q.dueDepth).toBe(added.size);
      }
      q.shutDown();
      jest.useRealTimers();
    }), { numRuns: RUNS });
  });
});

afterEach(() => {
  jest.useRealTimers();
});
