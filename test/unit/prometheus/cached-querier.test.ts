import { describe, expect, test } from '@jest/globals';
import { CachedQuerier } from '../../../src/analysis/prometheus/cached-querier.js';
import type { MetricsQuerier, QueryResult } from '../../../src/analysis/prometheus/client.js';

const OK = (value: number): QueryResult => ({ ok: true, resultType: 'scalar', samples: [{ labels: {}, value }] });
const DOWN: QueryResult = { ok: false, kind: 'unreachable', message: 'cannot reach Prometheus at http://p: ECONNREFUSED' };

/** A querier whose answers the test releases by hand, so in-flight overlap is deterministic. */
class FakeQuerier implements MetricsQuerier {
  readonly calls: { address: string; promql: string; timeoutMs: number }[] = [];
  private readonly pending: ((r: QueryResult) => void)[] = [];
  answer: () => QueryResult = () => OK(this.calls.length);
  manual = false;

  query(address: string, promql: string, timeoutMs: number): Promise<QueryResult> {
    this.calls.push({ address, promql, timeoutMs });
    if (!this.manual) return Promise.resolve(this.answer());
    return new Promise((resolve) => this.pending.push(resolve));
  }

  releaseAll(): void {
    for (const resolve of this.pending.splice(0)) resolve(this.answer());
  }
}

function setup(ttlMs = 5000, errorTtlMs?: number) {
  let now = 1_000_000;
  const inner = new FakeQuerier();
  const cache = new CachedQuerier(inner, { ttlMs, ...(errorTtlMs === undefined ? {} : { errorTtlMs }), now: () => now });
  return { inner, cache, advance: (ms: number) => (now += ms) };
}

describe('CachedQuerier', () => {
  test('memoizes by (address, promql) within the TTL', async () => {
    const { inner, cache, advance } = setup();
    expect(await cache.query('http://p', 'up', 1000)).toEqual(OK(1));
    advance(4999);
    expect(await cache.query('http://p', 'up', 3000)).toEqual(OK(1));
    expect(inner.calls).toHaveLength(1);
    expect(cache.queriesSent).toBe(1);
  });

  test('different promql or address is a different entry', async () => {
    const { inner, cache } = setup();
    await cache.query('http://p', 'up', 1000);
    await cache.query('http://p', 'count(up)', 1000);
    await cache.query('http://q', 'up', 1000);
    await cache.query('http://p', 'up', 1000);
    expect(inner.calls.map((c) => `${c.address} ${c.promql}`)).toEqual(['http://p up', 'http://p count(up)', 'http://q up']);
    expect(cache.queriesSent).toBe(3);
  });

  test('identical queries in flight share one request', async () => {
    const { inner, cache } = setup();
    inner.manual = true;
    // Fifty releases asking for the same grouped query in one round.
    const all = Array.from({ length: 50 }, () => cache.query('http://p', 'sum by (x) (y)', 1000));
    const other = cache.query('http://p', 'other', 1000);
    expect(inner.calls).toHaveLength(2);
    inner.releaseAll();
    const results = await Promise.all(all);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toEqual(OK(2));
    expect(await other).toEqual(OK(2));
    expect(cache.queriesSent).toBe(2);
  });

  test('TTL counts from the answer; at expiry the query is sent again', async () => {
    const { inner, cache, advance } = setup(5000);
    inner.manual = true;
    const first = cache.query('http://p', 'up', 1000);
    advance(3000); // a slow answer...
    inner.releaseAll();
    await first;
    advance(4999); // ...is still fresh 4999ms after it arrived
    inner.manual = false;
    expect(await cache.query('http://p', 'up', 1000)).toEqual(OK(1));
    advance(1);
    expect(await cache.query('http://p', 'up', 1000)).toEqual(OK(2));
    expect(cache.queriesSent).toBe(2);
  });

  test('errors are kept only for the short error TTL (1s by default)', async () => {
    const { inner, cache, advance } = setup(30_000);
    inner.answer = () => DOWN;
    expect(await cache.query('http://p', 'up', 1000)).toEqual(DOWN);
    advance(999);
    expect(await cache.query('http://p', 'up', 1000)).toEqual(DOWN);
    expect(inner.calls).toHaveLength(1);
    advance(1);
    inner.answer = () => OK(42);
    expect(await cache.query('http://p', 'up', 1000)).toEqual(OK(42));
    advance(29_999);
    expect(await cache.query('http://p', 'up', 1000)).toEqual(OK(42));
    expect(cache.queriesSent).toBe(2);
  });

  test('errorTtlMs is configurable', async () => {
    const { inner, cache, advance } = setup(30_000, 200);
    inner.answer = () => DOWN;
    await cache.query('http://p', 'up', 1000);
    advance(199);
    await cache.query('http://p', 'up', 1000);
    advance(1);
    await cache.query('http://p', 'up', 1000);
    expect(inner.calls).toHaveLength(2);
  });

  test('a querier that throws is not cached: the next call retries', async () => {
    let fail = true;
    const throwing: MetricsQuerier = {
      query: () => (fail ? Promise.reject(new Error('boom')) : Promise.resolve(OK(7))),
    };
    const cache = new CachedQuerier(throwing, { ttlMs: 5000, now: () => 0 });
    await expect(cache.query('http://p', 'up', 1000)).rejects.toThrow('boom');
    fail = false;
    expect(await cache.query('http://p', 'up', 1000)).toEqual(OK(7));
    expect(cache.queriesSent).toBe(2);
  });

  // A round's grouped results cover every running release's Services (0.7 MiB at 1,000 releases): one that
  // has expired is let go at the next query 5 s on, not kept until a whole TTL after the last sweep.
  test('an expired result is let go within 5 s of its expiry while queries go on', async () => {
    const { cache, advance } = setup(60_000);
    // Round 1 is asked at 1 s (kept until 61 s), round 2 at 60 s, round 3 at 66 s.
    for (const [after, round] of [[1_000, 'round 1'], [59_000, 'round 2'], [6_000, 'round 3']] as const) {
      advance(after);
      await cache.query('http://p', round, 1000);
    }
    expect(cache.size).toBe(2);
  });

  test('expired entries are swept, still-fresh ones kept', async () => {
    const { inner, cache, advance } = setup(1000);
    for (let i = 0; i < 100; i++) await cache.query('http://p', `q${i}`, 1000);
    advance(1000);
    await cache.query('http://p', 'fresh', 1000); // sweeps q0..q99
    advance(500);
    await cache.query('http://p', 'fresh', 1000);
    await cache.query('http://p', 'q0', 1000);
    expect(inner.calls).toHaveLength(102);
    expect(cache.size).toBe(2);
  });
});
