import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { WorkQueue } from '../../src/controller/work-queue.js';

/** The part of a key before the slash, as one group per namespace. */
const namespaceOf = (key: string): string => key.slice(0, Math.max(0, key.indexOf('/')));

/** Takes n keys one after another, each done at once; the order they came in. */
async function drain(q: WorkQueue, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = (await q.get()) as string;
    out.push(k);
    q.done(k);
  }
  return out;
}

/** Whether a promise has settled, without waiting on timers. */
async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let out: { done: boolean; value?: T } = { done: false };
  p.then((value) => { out = { done: true, value }; }, () => { out = { done: true }; });
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return out;
}

describe('WorkQueue: add and get', () => {
  test('hands keys out in the order they were added', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/b');
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
  });

  test('a key added twice while waiting is queued once', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
    expect(await settled(q.get())).toEqual({ done: false });
  });

  test('a waiting get is resolved by the next add', async () => {
    const q = new WorkQueue();
    const next = q.get();
    expect(await settled(next)).toEqual({ done: false });
    q.add('ns/a');
    expect(await next).toBe('ns/a');
    expect(q.depth).toBe(0);
    expect(q.busy).toBe(true);
  });

  test('waiting workers are served first come, first served', async () => {
    const q = new WorkQueue();
    const w1 = q.get();
    const w2 = q.get();
    q.add('ns/a');
    q.add('ns/b');
    expect(await w1).toBe('ns/a');
    expect(await w2).toBe('ns/b');
  });

  test('busy is true while a key is processed and false after done', async () => {
    const q = new WorkQueue();
    expect(q.busy).toBe(false);
    q.add('ns/a');
    const k = (await q.get()) as string;
    expect(q.busy).toBe(true);
    q.done(k);
    expect(q.busy).toBe(false);
  });
});

describe('WorkQueue: one worker per key', () => {
  test('a key added while it is processed is not handed to a second worker', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    expect(await q.get()).toBe('ns/a');
    q.add('ns/a');
    expect(q.depth).toBe(0);
    const second = q.get();
    expect(await settled(second)).toEqual({ done: false });
    q.done('ns/a');
    expect(await second).toBe('ns/a');
  });

  test('a waiting worker is not given a key another worker is processing', async () => {
    const q = new WorkQueue();
    const w1 = q.get();
    const w2 = q.get();
    q.add('ns/a');
    expect(await w1).toBe('ns/a');
    q.add('ns/a');
    expect(await settled(w2)).toEqual({ done: false });
    q.add('ns/b');
    expect(await w2).toBe('ns/b');
  });

  test('several adds while processing run the key once more, not several times', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    await q.get();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    q.done('ns/a');
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe('ns/a');
    q.done('ns/a');
    expect(q.depth).toBe(0);
  });

  test('done without a new add does not requeue the key', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    await q.get();
    q.done('ns/a');
    expect(q.depth).toBe(0);
    expect(await settled(q.get())).toEqual({ done: false });
  });

  test('other keys are processed while one is busy', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    await q.get();
    q.add('ns/a');
    q.add('ns/b');
    expect(await q.get()).toBe('ns/b');
  });
});

describe('WorkQueue: timed requeues', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2025-03-01T12:00:00.000Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  test('addAfter adds the key once the delay has passed, not before', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 1_000);
    expect(q.depth).toBe(0);
    jest.advanceTimersByTime(999);
    expect(q.depth).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.depth).toBe(1);
  });

  test('addAfter with no delay adds at once', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 0);
    q.addAfter('ns/b', -5);
    expect(q.depth).toBe(2);
  });

  test('an earlier pending wake-up wins over a later one', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 1_000);
    q.addAfter('ns/a', 5_000);
    jest.advanceTimersByTime(1_000);
    expect(q.depth).toBe(1);
  });

  test('a sooner addAfter replaces a later pending wake-up', async () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 5_000);
    q.addAfter('ns/a', 1_000);
    jest.advanceTimersByTime(1_000);
    expect(q.depth).toBe(1);
    q.done((await q.get()) as string);
    jest.advanceTimersByTime(10_000);
    expect(q.depth).toBe(0);
  });

  test('a wall clock set back between two addAfter calls does not let a later wake-up replace a sooner one', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 5_000);
    jest.setSystemTime(Date.now() - 3_600_000); // the wall clock only: timers and performance.now go on
    q.addAfter('ns/a', 600_000);
    jest.advanceTimersByTime(5_000);
    expect(q.depth).toBe(1);
  });

  test('a wall clock set forward between two addAfter calls does not keep a later wake-up over a sooner one', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 10_000);
    jest.setSystemTime(Date.now() + 3_600_000);
    q.addAfter('ns/a', 1_000);
    jest.advanceTimersByTime(1_000);
    expect(q.depth).toBe(1);
  });

  test('a timed wake-up is due: it goes ahead of keys added by events', async () => {
    const q = new WorkQueue();
    q.addAfter('a/timed', 1_000);
    q.add('b/event');
    jest.advanceTimersByTime(1_000);
    const first = (await q.get()) as string;
    q.done(first);
    expect([first, await q.get()]).toEqual(['a/timed', 'b/event']);
  });

  test('a due-only worker takes due keys and never an event key; a general worker takes both, due first', async () => {
    const q = new WorkQueue();
    q.add('b/event');
    const dueOnly = q.get({ dueOnly: true });
    expect((await settled(dueOnly)).done).toBe(false);
    q.addAfter('a/timed', 1_000);
    jest.advanceTimersByTime(1_000);
    expect(await settled(dueOnly)).toEqual({ done: true, value: 'a/timed' });
    expect(await q.get()).toBe('b/event');
  });

  test('a due-only worker waiting first does not hold back an event key from a general worker waiting after it', async () => {
    const q = new WorkQueue();
    const dueOnly = q.get({ dueOnly: true });
    const general = q.get();
    q.add('b/event');
    expect(await settled(general)).toEqual({ done: true, value: 'b/event' });
    expect((await settled(dueOnly)).done).toBe(false);
    q.addDue('c/due');
    expect(await settled(dueOnly)).toEqual({ done: true, value: 'c/due' });
  });

  test('a due-only worker leaves a due key whose group is busy, and takes it once the group is free', async () => {
    const q = new WorkQueue({ groupOf: namespaceOf });
    q.add('ns/a');
    const a = (await q.get()) as string;
    q.addDue('ns/b');
    const dueOnly = q.get({ dueOnly: true });
    expect((await settled(dueOnly)).done).toBe(false);
    q.done(a);
    expect(await settled(dueOnly)).toEqual({ done: true, value: 'ns/b' });
  });

  test('lookAgainAfter replaces an earlier pending wake-up, later or sooner, and undefined clears it', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 1_000);
    q.lookAgainAfter('ns/a', 5_000);
    jest.advanceTimersByTime(1_000);
    expect(q.depth).toBe(0);
    jest.advanceTimersByTime(4_000);
    expect(q.depth).toBe(1);

    q.addAfter('ns/b', 1_000);
    q.lookAgainAfter('ns/b', undefined);
    jest.advanceTimersByTime(10_000);
    expect(q.depth).toBe(1);
  });

  test('a wake-up while the key is processed runs it again after done', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    await q.get();
    q.addAfter('ns/a', 100);
    jest.advanceTimersByTime(100);
    expect(q.depth).toBe(0);
    q.done('ns/a');
    expect(q.depth).toBe(1);
  });

  test('addRateLimited grows exponentially from the base delay (no jitter at random 0.5)', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const q = new WorkQueue({ baseBackoffMs: 100, maxBackoffMs: 1_000 });
    expect([1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('ns/a'))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  test('addRateLimited jitters within +-20%', () => {
    const q = new WorkQueue({ baseBackoffMs: 1_000 });
    jest.spyOn(Math, 'random').mockReturnValue(0);
    expect(q.addRateLimited('ns/a')).toBe(800);
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    expect(q.addRateLimited('ns/a')).toBe(2_400);
  });

  test('with real jitter each failure still waits longer than the one before', () => {
    const q = new WorkQueue();
    const delays = Array.from({ length: 8 }, () => q.addRateLimited('ns/a'));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1] as number);
    expect(delays[0]).toBeGreaterThanOrEqual(400);
    expect(delays[0]).toBeLessThanOrEqual(600);
  });

  test('the default delays start at 500ms and stop at 5 minutes', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const q = new WorkQueue();
    expect(q.addRateLimited('ns/a')).toBe(500);
    let last = 0;
    for (let i = 0; i < 30; i++) last = q.addRateLimited('ns/a');
    expect(last).toBe(300_000);
  });

  test('addRateLimited requeues the key after the delay it returns', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const q = new WorkQueue({ baseBackoffMs: 250 });
    const delay = q.addRateLimited('ns/a');
    jest.advanceTimersByTime(delay - 1);
    expect(q.depth).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.depth).toBe(1);
  });

  test('failure counts are per key', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const q = new WorkQueue({ baseBackoffMs: 100 });
    q.addRateLimited('ns/a');
    q.addRateLimited('ns/a');
    expect(q.addRateLimited('ns/b')).toBe(100);
  });

  test('forget resets the backoff to the base delay', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const q = new WorkQueue({ baseBackoffMs: 100 });
    q.addRateLimited('ns/a');
    q.addRateLimited('ns/a');
    expect(q.addRateLimited('ns/a')).toBe(400);
    q.forget('ns/a');
    expect(q.addRateLimited('ns/a')).toBe(100);
  });
});

describe('WorkQueue: shutDown', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('releases every waiting worker with undefined', async () => {
    const q = new WorkQueue();
    const w1 = q.get();
    const w2 = q.get();
    q.shutDown();
    expect(await w1).toBeUndefined();
    expect(await w2).toBeUndefined();
  });

  test('get after shutDown returns undefined even with keys left', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });

  test('add and addAfter after shutDown are ignored', () => {
    const q = new WorkQueue();
    q.shutDown();
    q.add('ns/a');
    q.addAfter('ns/b', 10);
    expect(q.depth).toBe(0);
  });

  test('pending wake-ups are cancelled', () => {
    jest.useFakeTimers();
    const q = new WorkQueue();
    q.addAfter('ns/a', 1_000);
    q.shutDown();
    jest.advanceTimersByTime(5_000);
    expect(q.depth).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('a key in flight can still be marked done', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    await q.get();
    q.add('ns/a');
    q.shutDown();
    q.done('ns/a');
    expect(q.busy).toBe(false);
    expect(q.depth).toBe(0);
  });
});

describe('WorkQueue: one worker per group (releases of one namespace)', () => {
  const grouped = () => new WorkQueue({ groupOf: namespaceOf });

  test('two keys of one namespace are never processed at once; the second waits for the first', async () => {
    const q = grouped();
    q.add('team-a/one');
    q.add('team-a/two');
    expect(await q.get()).toBe('team-a/one');
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await new Promise((r) => setImmediate(r));
    expect(second).toBeUndefined();
    q.done('team-a/one');
    await new Promise((r) => setImmediate(r));
    expect(second).toBe('team-a/two');
  });

  test('another namespace goes ahead while one is busy', async () => {
    const q = grouped();
    q.add('team-a/one');
    q.add('team-a/two');
    q.add('team-b/one');
    expect(await q.get()).toBe('team-a/one');
    expect(await q.get()).toBe('team-b/one');
  });

  test('a waiting worker is handed a key of a free namespace as soon as one is added', async () => {
    const q = grouped();
    q.add('team-a/one');
    expect(await q.get()).toBe('team-a/one');
    const next = q.get();
    q.add('team-a/two');
    q.add('team-b/one');
    expect(await next).toBe('team-b/one');
  });

});

describe('WorkQueue: keys in several groups (a release naming its route and a replaced one)', () => {
  const tick = () => new Promise((r) => setImmediate(r));

  test('a key waits until every one of its groups is free, and frees them all when done', async () => {
    const groups: Record<string, string[]> = { 'ns/a': ['r1'], 'ns/b': ['r1', 'r2'], 'ns/c': ['r2'], 'ns/d': ['r3'] };
    const q = new WorkQueue({ groupOf: (k) => groups[k] ?? [k] });
    for (const k of ['ns/a', 'ns/b', 'ns/c', 'ns/d']) q.add(k);
    // b needs r1, which a holds; c (r2) waits behind b, d (r3) goes ahead.
    expect([await q.get(), await q.get()]).toEqual(['ns/a', 'ns/d']);
    let b: string | undefined;
    void q.get().then((k) => (b = k));
    await tick();
    expect(b).toBeUndefined();
    q.done('ns/a');
    await tick();
    expect(b).toBe('ns/b');
    let c: string | undefined;
    void q.get().then((k) => (c = k));
    q.add('ns/a');
    await tick();
    expect(c).toBeUndefined(); // b holds r1 and r2
    q.done('ns/b');
    await tick();
    expect(c).toBe('ns/c'); // first come: c waited longer than a
    expect(await q.get()).toBe('ns/a');
  });

  test('a key that needs two groups is not passed by keys that each need one of them', async () => {
    const groups: Record<string, string[]> = { 'ns/both': ['r1', 'r2'] };
    const q = new WorkQueue({ groupOf: (k) => groups[k] ?? [k.startsWith('ns/one') ? 'r1' : 'r2'] });
    q.add('ns/one-a');
    expect(await q.get()).toBe('ns/one-a'); // holds r1
    q.add('ns/both');
    q.add('ns/two-a'); // r2 is free, but "both" waits for it first
    q.add('ns/one-b');
    let next: string | undefined;
    void q.get().then((k) => (next = k));
    await tick();
    expect(next).toBeUndefined();
    q.done('ns/one-a');
    await tick();
    expect(next).toBe('ns/both');
    q.done('ns/both');
    expect([await q.get(), await q.get()]).toEqual(['ns/two-a', 'ns/one-b']);
  });

  test('a key whose groups changed after it was handed out says so; done frees the groups it was taken with', async () => {
    const groups: Record<string, string[]> = { 'ns/a': ['r1'], 'ns/b': ['r2'] };
    const q = new WorkQueue({ groupOf: (k) => groups[k] ?? [k] });
    q.add('ns/a');
    expect(await q.get()).toBe('ns/a');
    expect(q.holdsItsGroups('ns/a')).toBe(true);
    groups['ns/a'] = ['r1', 'r2'];
    expect(q.holdsItsGroups('ns/a')).toBe(false);
    // Until done, r1 stays held (as taken); r2 was never taken, so b goes ahead.
    q.add('ns/b');
    expect(await q.get()).toBe('ns/b');
    q.done('ns/a');
    q.addDue('ns/a');
    let again: string | undefined;
    void q.get().then((k) => (again = k));
    await tick();
    expect(again).toBeUndefined(); // now it needs r2 too, which b holds
    q.done('ns/b');
    await tick();
    expect(again).toBe('ns/a');
    expect(q.holdsItsGroups('ns/a')).toBe(true);
    expect(q.holdsItsGroups('ns/b')).toBe(false); // not being processed
  });
});

describe('WorkQueue: delays beyond what a timer can hold', () => {
  afterEach(() => {
    jest.useRealTimers();
  });
  test('a delay above 2^31-1 ms wakes the key after at most that, never after 1 ms', () => {
    jest.useFakeTimers();
    const q = new WorkQueue();
    q.addAfter('ns/a', 600 * 3_600_000);
    jest.advanceTimersByTime(1000);
    expect(q.depth).toBe(0);
    jest.advanceTimersByTime(2 ** 31 - 1);
    expect(q.depth).toBe(1);
  });
});

describe('WorkQueue: keys whose time has come wait ahead of event-driven ones', () => {
  test('due keys go first, in the order they became due; the others keep theirs', async () => {
    const q = new WorkQueue();
    for (const k of ['a/new1', 'b/new2', 'c/new3']) q.add(k);
    q.addDue('d/round1');
    q.addDue('e/round2');
    expect(await drain(q, 5)).toEqual(['d/round1', 'e/round2', 'a/new1', 'b/new2', 'c/new3']);
  });

  test('a key already waiting behind others moves ahead when it becomes due, and waits once', async () => {
    const q = new WorkQueue();
    for (const k of ['a/x', 'b/y', 'c/z']) q.add(k);
    q.addDue('c/z');
    q.addDue('c/z');
    q.add('c/z');
    expect(q.depth).toBe(3);
    expect(await drain(q, 3)).toEqual(['c/z', 'a/x', 'b/y']);
  });

  test('a key that became due while it was processed goes back ahead of event keys after done', async () => {
    const q = new WorkQueue();
    q.add('a/x');
    const running = (await q.get()) as string;
    q.add('b/event');
    q.addDue('a/x');
    q.add('a/x');
    q.done(running);
    expect(await drain(q, 2)).toEqual(['a/x', 'b/event']);
  });

  test('a timed look whose time has come and a failed round go ahead of finished rounds; event keys last', async () => {
    jest.useFakeTimers();
    try {
      const q = new WorkQueue();
      q.add('a/new');
      for (const k of ['b/passed1', 'c/passed2']) q.addDue(k);
      q.addAfter('d/timed', 1_000);
      jest.advanceTimersByTime(1_000);
      q.addFirst('e/failed');
      q.addDue('f/passed3');
      expect(q.dueDepth).toBe(5);
      expect(await drain(q, 6)).toEqual(['d/timed', 'e/failed', 'b/passed1', 'c/passed2', 'f/passed3', 'a/new']);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a due key moves ahead when it is added first, and an add for a lower tier never moves it back', async () => {
    const q = new WorkQueue();
    for (const k of ['a/x', 'b/y']) q.addDue(k);
    q.add('c/z');
    q.addFirst('b/y');
    q.addDue('b/y');
    q.add('b/y');
    q.addFirst('c/z');
    expect(q.depth).toBe(3);
    expect(await drain(q, 3)).toEqual(['b/y', 'c/z', 'a/x']);
  });

  test('a key added first while it was processed goes back ahead of due keys after done', async () => {
    const q = new WorkQueue();
    q.add('a/x');
    const running = (await q.get()) as string;
    q.addDue('b/due');
    q.addDue('a/x');
    q.addFirst('a/x');
    q.add('a/x');
    q.done(running);
    expect(await drain(q, 2)).toEqual(['a/x', 'b/due']);
  });

  test('a due-only worker takes a key of the first tier', async () => {
    const q = new WorkQueue();
    q.add('a/event');
    const dueOnly = q.get({ dueOnly: true });
    expect((await settled(dueOnly)).done).toBe(false);
    q.addFirst('b/failed');
    expect(await settled(dueOnly)).toEqual({ done: true, value: 'b/failed' });
  });

  test('a look asked for at once and a retry after a failure wait in the first tier, ahead of finished rounds', async () => {
    jest.useFakeTimers();
    try {
      const q = new WorkQueue({ baseBackoffMs: 500 });
      q.addDue('a/passed');
      q.addAfter('b/now', 0);
      q.addRateLimited('c/failed');
      jest.advanceTimersByTime(600);
      expect(await drain(q, 3)).toEqual(['b/now', 'c/failed', 'a/passed']);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a key that finished a round while it was processed comes back due, behind a key added first meanwhile', async () => {
    const q = new WorkQueue();
    q.add('a/x');
    const running = (await q.get()) as string;
    q.addDue('a/x');
    q.addFirst('b/failed');
    q.done(running);
    expect(await drain(q, 2)).toEqual(['b/failed', 'a/x']);
  });

  test('a due-only worker passes a first-tier key of a busy group, takes a due key, and never an event key', async () => {
    const q = new WorkQueue({ groupOf: namespaceOf });
    q.add('ns1/a');
    const busy = (await q.get()) as string;
    q.add('ns3/event');
    q.addFirst('ns1/first');
    q.addDue('ns2/due');
    const dueOnly = q.get({ dueOnly: true });
    expect(await settled(dueOnly)).toEqual({ done: true, value: 'ns2/due' });
    const next = q.get({ dueOnly: true });
    expect((await settled(next)).done).toBe(false);
    q.done(busy);
    expect(await settled(next)).toEqual({ done: true, value: 'ns1/first' });
    expect(q.depth).toBe(1);
  });

  test('a due key of a busy namespace lets other namespaces go first, then runs', async () => {
    const q = new WorkQueue({ groupOf: namespaceOf });
    q.add('ns1/a');
    const first = (await q.get()) as string;
    q.add('ns2/b');
    q.addDue('ns1/c');
    expect(await q.get()).toBe('ns2/b');
    q.done(first);
    expect(await q.get()).toBe('ns1/c');
  });

});

describe('WorkQueue: an event key gives way to due keys for eventYieldMs only', () => {
  test('an event key that waited eventYieldMs goes ahead of due keys added after that, behind those added before', async () => {
    let t = 0;
    const q = new WorkQueue({ eventYieldMs: 2_000, now: () => t });
    q.add('a/new');
    t = 1_999;
    q.addDue('b/due-before');
    t = 2_001;
    q.addDue('c/due-after');
    q.addFirst('d/first');
    expect(await drain(q, 4)).toEqual(['d/first', 'b/due-before', 'a/new', 'c/due-after']);
  });

  test('a stream of due keys does not keep a new release waiting: it goes once it has given way for 2 s (the default)', async () => {
    let t = 0;
    const q = new WorkQueue({ now: () => t });
    q.add('new/release');
    for (let i = 0; i < 5; i++) q.addDue(`backlog/${i}`);
    const order: string[] = [];
    // A due key comes every 100 ms and one is taken every 100 ms: the due tier never empties.
    for (let i = 0; i < 60; i++, t += 100) {
      q.addDue(`due/${i}`);
      const k = (await q.get()) as string;
      order.push(k);
      q.done(k);
    }
    // Behind the 5 waiting and the 20 that came within its first 2 s; ahead of those that came after.
    expect(order.indexOf('new/release')).toBe(25);
    expect(order.slice(24, 27)).toEqual(['due/19', 'new/release', 'due/20']);
  });

  test('an event key that becomes due keeps the sooner of its two places', async () => {
    let t = 0;
    const q = new WorkQueue({ eventYieldMs: 1_000, now: () => t });
    q.add('a/old-event');
    t = 5_000;
    q.addDue('b/due');
    q.addDue('a/old-event');
    expect(await drain(q, 2)).toEqual(['a/old-event', 'b/due']);
  });

  test('a due-only worker takes no event key, even one that waits among the due keys', async () => {
    let t = 0;
    const q = new WorkQueue({ eventYieldMs: 1_000, now: () => t });
    q.add('a/event');
    t = 2_000;
    q.addDue('b/due');
    const dueOnly = q.get({ dueOnly: true });
    expect(await settled(dueOnly)).toEqual({ done: true, value: 'b/due' });
    q.done('b/due');
    const next = q.get({ dueOnly: true });
    expect((await settled(next)).done).toBe(false);
    expect(await q.get()).toBe('a/event');
  });

  test('an event key that gave way is not passed in its group by the due keys a due-only worker takes after it', async () => {
    let t = 0;
    const groups: Record<string, string[]> = { 'busy/x': ['ns2'], 'both/new': ['ns1', 'ns2'], 'ns1/due': ['ns1'], 'ns3/due': ['ns3'] };
    const q = new WorkQueue({ eventYieldMs: 1_000, now: () => t, groupOf: (k) => groups[k] ?? [k] });
    q.addFirst('busy/x');
    expect(await q.get()).toBe('busy/x');
    q.add('both/new');
    t = 2_000;
    q.addDue('ns1/due');
    q.addDue('ns3/due');
    // ns1 is kept for the event key that waits ahead (it needs ns2, still busy); another group's due key goes.
    expect(await settled(q.get({ dueOnly: true }))).toEqual({ done: true, value: 'ns3/due' });
    const next = q.get({ dueOnly: true });
    expect((await settled(next)).done).toBe(false);
    q.done('busy/x');
    expect(await q.get()).toBe('both/new');
    q.done('both/new');
    expect(await settled(next)).toEqual({ done: true, value: 'ns1/due' });
  });

  test('with eventYieldMs 0 event and due keys wait in one line, first come, first served; out-of-bound values are refused', async () => {
    const q = new WorkQueue({ eventYieldMs: 0, now: () => 0 });
    q.add('a/event');
    q.addDue('b/due');
    q.add('c/event');
    expect(await drain(q, 3)).toEqual(['a/event', 'b/due', 'c/event']);
    expect(() => new WorkQueue({ eventYieldMs: -1 })).toThrow('eventYieldMs must be between 0 and 600000, got -1');
    expect(() => new WorkQueue({ eventYieldMs: Number.NaN })).toThrow('eventYieldMs must be between 0 and 600000, got NaN');
  });
});
