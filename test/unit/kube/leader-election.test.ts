// The Lease elector against an in-memory Lease API that can hang or fail per
// replica, with jest's fake timers (which drive setTimeout, Date.now and
// performance.now; jest.setSystemTime steps only the wall clock).
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import { LeaderElector, drainAfterLostLeaseMs, type LeaseApi } from '../../../src/kube/leader-election.js';

const LEASE_MS = 6000;
const RENEW_DEADLINE_MS = 4000;
const RETRY_MS = 800;

type Mode = 'ok' | 'hang' | 'fail';

/** One Lease in memory, with resourceVersion checks like the API server's. */
class LeaseStore {
  lease: V1Lease | undefined;
  private rv = 0;

  read(): V1Lease {
    if (!this.lease) throw Object.assign(new Error('leases "leader" not found'), { code: 404 });
    return structuredClone(this.lease);
  }

  create(body: V1Lease): V1Lease {
    if (this.lease) throw Object.assign(new Error('already exists'), { code: 409 });
    return this.write(body);
  }

  replace(body: V1Lease): V1Lease {
    if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
    return this.write(body);
  }

  private write(body: V1Lease): V1Lease {
    this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

/** One replica's view of the API: its calls can be made to hang or fail. */
function apiFor(store: LeaseStore): LeaseApi & { mode: Mode; pending: number; release: () => void } {
  let hung: (() => void)[] = [];
  const api = {
    mode: 'ok' as Mode,
    pending: 0,
    release: () => {
      hung.forEach((r) => r());
      hung = [];
    },
  };
  const run = <T>(op: () => T): Promise<T> => {
    if (api.mode === 'fail') return Promise.reject(Object.assign(new Error('etcdserver: request timed out'), { code: 500 }));
    if (api.mode === 'hang') {
      api.pending++;
      // Answers only when released, long after the fact: the answer must then be ignored.
      return new Promise<T>((resolve, reject) => hung.push(() => {
        try {
          resolve(op());
        } catch (err) {
          reject(err);
        }
      }));
    }
    try {
      return Promise.resolve(op());
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return Object.assign(api, {
    readNamespacedLease: () => run(() => store.read()),
    createNamespacedLease: ({ body }: { body: V1Lease }) => run(() => store.create(body)),
    replaceNamespacedLease: ({ body }: { body: V1Lease }) => run(() => store.replace(body)),
  }) as unknown as LeaseApi & { mode: Mode; pending: number; release: () => void };
}

interface Replica {
  elector: LeaderElector;
  api: ReturnType<typeof apiFor>;
  startedAt: number[];
  stoppedAt: number[];
  /** The drain each stop allowed (ms). */
  drains: number[];
}

function replica(store: LeaseStore, identity: string): Replica {
  const api = apiFor(store);
  const r: Replica = { api, startedAt: [], stoppedAt: [], drains: [], elector: undefined as unknown as LeaderElector };
  r.elector = new LeaderElector({
    api, namespace: 'ns', name: 'leader', identity,
    leaseDurationMs: LEASE_MS, renewDeadlineMs: RENEW_DEADLINE_MS, retryPeriodMs: RETRY_MS,
    log: pino({ level: 'silent' }),
    onStartedLeading: () => void r.startedAt.push(performance.now()),
    onStoppedLeading: (drainMs) => {
      r.stoppedAt.push(performance.now());
      r.drains.push(drainMs);
    },
  });
  return r;
}

const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(async () => {
  jest.useRealTimers();
});

describe('leader election', () => {
  it('takes a missing lease at once and renews it every retry period', async () => {
    const store = new LeaseStore();
    const a = replica(store, 'a');
    a.elector.start();
    await advance(10);
    expect(a.elector.isLeader).toBe(true);
    expect(store.lease?.spec?.holderIdentity).toBe('a');
    const rv = store.lease?.metadata?.resourceVersion;
    await advance(RETRY_MS + 10);
    expect(store.lease?.metadata?.resourceVersion).not.toBe(rv);
    await a.elector.stop();
  });

  it('a leader whose Lease requests hang stops leading at its renew deadline, before the standby may acquire', async () => {
    const store = new LeaseStore();
    const a = replica(store, 'a');
    const b = replica(store, 'b');
    a.elector.start();
    await advance(10);
    b.elector.start();
    await advance(3 * RETRY_MS);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);

    const lastRenewBy = performance.now();
    a.api.mode = 'hang';
    await advance(LEASE_MS + 3 * RETRY_MS);

    expect(a.stoppedAt).toHaveLength(1);
    // At most one retry period after the last successful renew was sent, plus the deadline.
    expect(a.stoppedAt[0]! - lastRenewBy).toBeLessThanOrEqual(RENEW_DEADLINE_MS);
    expect(b.startedAt).toHaveLength(1);
    expect(b.startedAt[0]!).toBeGreaterThan(a.stoppedAt[0]!);
    expect(b.startedAt[0]! - a.stoppedAt[0]!).toBeGreaterThanOrEqual(LEASE_MS - RENEW_DEADLINE_MS - RETRY_MS);
    // What a may still finish, and its last lines, end before b leads, with half the margin to spare.
    expect(a.drains[0]!).toBeGreaterThan(0);
    expect(a.stoppedAt[0]! + a.drains[0]! + 200 + (LEASE_MS - RENEW_DEADLINE_MS) / 2).toBeLessThanOrEqual(b.startedAt[0]!);
    await b.elector.stop();
  });

  it('ignores a hung renew that is answered after leadership was lost', async () => {
    const store = new LeaseStore();
    const a = replica(store, 'a');
    a.elector.start();
    await advance(10);
    a.api.mode = 'hang';
    await advance(RENEW_DEADLINE_MS + RETRY_MS);
    expect(a.stoppedAt).toHaveLength(1);
    a.api.mode = 'ok';
    a.api.release();
    await advance(LEASE_MS);
    expect(a.elector.isLeader).toBe(false);
    expect(a.startedAt).toHaveLength(1);
    expect(a.stoppedAt).toHaveLength(1);
  });

  it('a leader whose wall clock steps back an hour while renews fail still stops at its renew deadline', async () => {
    const store = new LeaseStore();
    const a = replica(store, 'a');
    a.elector.start();
    await advance(10);
    const lastRenewBy = performance.now();
    a.api.mode = 'fail';
    jest.setSystemTime(Date.now() - 3_600_000);
    await advance(RENEW_DEADLINE_MS + RETRY_MS);
    expect(a.stoppedAt).toHaveLength(1);
    expect(a.stoppedAt[0]! - lastRenewBy).toBeLessThanOrEqual(RENEW_DEADLINE_MS);
  });

  it('a standby whose wall clock steps forward an hour still waits a full lease duration after the last change it saw', async () => {
    const store = new LeaseStore();
    const a = replica(store, 'a');
    const b = replica(store, 'b');
    a.elector.start();
    await advance(10);
    b.elector.start();
    await advance(2 * RETRY_MS);
    a.api.mode = 'hang'; // a stops renewing (and will stop leading at its deadline)
    const lastChange = performance.now();
    await advance(2 * RETRY_MS); // b has now seen the lease's last change
    jest.setSystemTime(Date.now() + 3_600_000);
    await advance(LEASE_MS - 3 * RETRY_MS - 10);
    expect(b.startedAt).toEqual([]);
    await advance(4 * RETRY_MS);
    expect(b.startedAt).toHaveLength(1);
    expect(b.startedAt[0]! - lastChange).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS);
    await b.elector.stop();
  });

  it('a leader that finds another holder in the lease stops at once', async () => {
    const store = new LeaseStore();
    const a = replica(store, 'a');
    a.elector.start();
    await advance(10);
    store.lease = { ...store.lease!, spec: { ...store.lease!.spec, holderIdentity: 'intruder' } };
    await advance(RETRY_MS + 10);
    expect(a.stoppedAt).toHaveLength(1);
    // The other holder may lead already: nothing in flight may finish.
    expect(a.drains).toEqual([0]);
  });

  it('hands the lease over on stop, so a standby takes it without waiting for expiry', async () => {
    const store = new LeaseStore();
    const a = replica(store, 'a');
    const b = replica(store, 'b');
    a.elector.start();
    await advance(10);
    b.elector.start();
    await advance(RETRY_MS);
    await a.elector.stop();
    expect(store.lease?.spec?.holderIdentity).toBeUndefined();
    await advance(2 * RETRY_MS);
    expect(b.elector.isLeader).toBe(true);
    expect(a.stoppedAt).toEqual([]);
    await b.elector.stop();
  });

  it('refuses settings where the renew deadline is not below the lease duration', () => {
    const make = (renewDeadlineMs: number, callTimeoutMs?: number) => () => new LeaderElector({
      api: apiFor(new LeaseStore()), namespace: 'ns', name: 'l', identity: 'a', leaseDurationMs: 6000, renewDeadlineMs, retryPeriodMs: 500, callTimeoutMs,
      log: pino({ level: 'silent' }), onStartedLeading: () => {}, onStoppedLeading: () => {},
    });
    expect(make(6000)).toThrow('renewDeadline (6000 ms) must be below leaseDuration (6000 ms)');
    expect(make(4000, 4000)).toThrow('call timeout (4000 ms) must be below renewDeadline');
    expect(make(4000)).not.toThrow();
  });
});

describe('drainAfterLostLeaseMs', () => {
  const drain = (leaseDurationMs: number, renewDeadlineMs: number, sinceLastRenewSentMs: number, reserveMs = 200) =>
    drainAfterLostLeaseMs({ leaseDurationMs, renewDeadlineMs, sinceLastRenewSentMs, reserveMs });

  it('ends half of the margin before a standby may lead after the renew deadline, less the last lines, at most a second', () => {
    // The e2e stall test's lease (6 s, deadline 4 s), timer on time: until 5 s, less 200 ms.
    expect(drain(LEASE_MS, RENEW_DEADLINE_MS, RENEW_DEADLINE_MS)).toBe(800);
    // The chart's default (15 s, 10 s): capped at a second.
    expect(drain(15_000, 10_000, 10_000)).toBe(1000);
    // A deadline timer that fired late leaves less, and none once half the margin has passed.
    expect(drain(LEASE_MS, RENEW_DEADLINE_MS, 4500)).toBe(300);
    expect(drain(LEASE_MS, RENEW_DEADLINE_MS, 5000)).toBe(0);
    expect(drain(LEASE_MS, RENEW_DEADLINE_MS, 9000)).toBe(0);
  });
});
