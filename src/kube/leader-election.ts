// Leader election on a coordination.k8s.io Lease, as client-go does it: the
// holder renews the lease every retry period; a candidate takes it over only
// after leaseDuration without a change it saw itself, and every write is
// guarded by the lease's resourceVersion.
//
// Why two leaders never act at once:
// - The leader's renew deadline is its own timer, armed from the moment it
//   *sent* its last successful renew and measured on the monotonic clock; it
//   fires whatever a pending request does (each Lease call also gives up after
//   callTimeoutMs), and firing stops leading at once: the operator takes no
//   new key, lets the reconciles in flight finish and their Events go out
//   until at most half of the margin below has passed since the deadline
//   (drainAfterLostLeaseMs; none once another holder is seen), and exits.
// - A candidate measures expiry from the moment it *received* a lease whose
//   resourceVersion it had not seen, on its own monotonic clock, and waits a
//   full leaseDuration. Any renew was sent before the candidate could see it,
//   so the old leader stops at least leaseDuration - renewDeadline before the
//   candidate may acquire.
// - Wall-clock time is only written into the Lease (acquireTime, renewTime)
//   for people and tools; a clock step changes no deadline.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isConflict, isNotFound } from './errors.js';

/**
 * How long a replica that lost the lease may still finish the reconciles in
 * flight and send their Events before it exits, counted from now: until half
 * of the leaseDuration - renewDeadline margin that keeps a standby from
 * leading (see above) has passed since its renew deadline, less `reserveMs`
 * for its last log lines, and at most a second. A deadline timer that fired
 * late leaves less; the other half of the margin stays a margin.
 */
export function drainAfterLostLeaseMs(o: { leaseDurationMs: number; renewDeadlineMs: number; sinceLastRenewSentMs: number; reserveMs: number }): number {
  const until = o.renewDeadlineMs + Math.floor((o.leaseDurationMs - o.renewDeadlineMs) / 2);
  return Math.max(0, Math.min(1000, Math.floor(until - o.sinceLastRenewSentMs - o.reserveMs)));
}

export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

export interface LeaderElectionOptions {
  api: LeaseApi;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  /** How long the leader may go without a successful renew before it stops leading; must be below leaseDuration. */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Each Lease call is abandoned after this; must be below renewDeadline. Default renewDeadline / 2. */
  callTimeoutMs?: number;
  log: Logger;
  onStartedLeading: () => void | Promise<void>;
  /**
   * Called once, at the renew deadline or when another holder is seen; the elector does nothing afterwards.
   * `drainMs`: how long the replica may still finish what is in flight (drainAfterLostLeaseMs; 0 once
   * another holder is seen: it may lead already).
   */
  onStoppedLeading: (drainMs: number) => void;
  /** Kept out of the drain for the replica's last log lines after it (ms); default 200. */
  exitReserveMs?: number;
  /** Monotonic milliseconds for every deadline; default performance.now(). */
  monotonicNow?: () => number;
  /** Wall-clock milliseconds, only for the Lease's timestamps; default Date.now(). */
  wallNow?: () => number;
}

/** A Lease call that got no answer within callTimeoutMs. */
export class LeaseCallTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`Lease ${what} got no answer within ${ms} ms`);
  }
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  /** Set once leadership was lost: answers that arrive later are ignored. */
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Monotonic send time of the last successful acquire or renew. */
  private lastRenewSentAt = 0;
  private observed: { rv: string | undefined; seenAt: number } | undefined;
  private readonly callTimeoutMs: number;
  private readonly mono: () => number;
  private readonly wall: () => number;

  constructor(private readonly o: LeaderElectionOptions) {
    this.callTimeoutMs = o.callTimeoutMs ?? Math.floor(o.renewDeadlineMs / 2);
    this.mono = o.monotonicNow ?? (() => performance.now());
    this.wall = o.wallNow ?? (() => Date.now());
    if (!(o.renewDeadlineMs < o.leaseDurationMs)) throw new Error(`leader election: renewDeadline (${o.renewDeadlineMs} ms) must be below leaseDuration (${o.leaseDurationMs} ms)`);
    if (!(this.callTimeoutMs < o.renewDeadlineMs)) throw new Error(`leader election: the Lease call timeout (${this.callTimeoutMs} ms) must be below renewDeadline (${o.renewDeadlineMs} ms)`);
    if (!(o.retryPeriodMs * 1.2 < o.renewDeadlineMs)) throw new Error(`leader election: retryPeriod (${o.retryPeriodMs} ms, +20% jitter) must be below renewDeadline (${o.renewDeadlineMs} ms)`);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.o.log.info({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }, 'waiting to become leader');
    void this.tick();
  }

  /** Stops trying; a leader gives the lease up at once so a standby takes over without waiting for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.call('read', this.o.api.readNamespacedLease({ namespace: this.o.namespace, name: this.o.name }));
      if (lease.spec?.holderIdentity === this.o.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.renewTime = new V1MicroTime(this.wall() - this.o.leaseDurationMs);
        lease.spec.leaseDurationSeconds = 1;
        await this.call('release', this.o.api.replaceNamespacedLease({ namespace: this.o.namespace, name: this.o.name, body: lease }));
        this.o.log.info('released leadership');
      }
    } catch (err) {
      this.o.log.warn({ err: errText(err) }, 'could not release the lease; the next leader waits for it to expire');
    }
  }

  private schedule(): void {
    if (this.stopped || this.finished) return;
    this.timer = setTimeout(() => void this.tick(), this.o.retryPeriodMs * (this.leading ? 1 : 1 + Math.random() * 0.2));
  }

  private async tick(): Promise<void> {
    const sentAt = this.mono();
    try {
      const won = await this.tryAcquireOrRenew();
      if (this.finished || this.stopped) return;
      if (won) {
        this.lastRenewSentAt = sentAt;
        this.armDeadline();
        if (!this.leading) {
          this.leading = true;
          this.o.log.info({ identity: this.o.identity }, 'became leader');
          await this.o.onStartedLeading();
        }
      }
    } catch (err) {
      if (this.finished) return;
      this.o.log.warn({ err: errText(err) }, 'lease update failed');
    }
    this.schedule();
  }

  /** The renew deadline, on its own timer: a hung request cannot postpone it. */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const left = this.lastRenewSentAt + this.o.renewDeadlineMs - this.mono();
    this.deadlineTimer = setTimeout(() => {
      if (this.mono() - this.lastRenewSentAt >= this.o.renewDeadlineMs) this.lose('could not renew the lease within the renew deadline');
      else this.armDeadline();
    }, Math.max(0, left));
  }

  private lose(why: string, anotherHolds = false): void {
    if (!this.leading || this.finished) return;
    this.leading = false;
    this.finished = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    const drainMs = anotherHolds ? 0 : drainAfterLostLeaseMs({
      leaseDurationMs: this.o.leaseDurationMs, renewDeadlineMs: this.o.renewDeadlineMs,
      sinceLastRenewSentMs: this.mono() - this.lastRenewSentAt, reserveMs: this.o.exitReserveMs ?? 200,
    });
    this.o.log.error({ identity: this.o.identity, renewDeadlineMs: this.o.renewDeadlineMs, drainMs }, `lost leadership: ${why}`);
    this.o.onStoppedLeading(drainMs);
  }

  /** One attempt; true when this instance holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.o;
    let lease: V1Lease;
    try {
      lease = await this.call('read', api.readNamespacedLease({ namespace, name }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.call('create', api.createNamespacedLease({ namespace, body: this.leaseBody(undefined, 0) }));
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    if (this.finished) return false;
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const rv = lease.metadata?.resourceVersion;
    // Expiry is judged by when *we* received a change, on our monotonic clock, never by the holder's timestamps.
    const receivedAt = this.mono();
    if (!this.observed || this.observed.rv !== rv) this.observed = { rv, seenAt: receivedAt };
    if (holder && holder !== identity) {
      if (this.leading) {
        this.lose(`the lease is held by ${holder}`, true);
        return false;
      }
      const durationMs = (spec.leaseDurationSeconds ?? this.o.leaseDurationMs / 1000) * 1000;
      if (receivedAt - this.observed.seenAt < durationMs) return false;
    }
    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    const acquired = holder === identity && spec.acquireTime ? new Date(String(spec.acquireTime)) : undefined;
    try {
      await this.call('update', api.replaceNamespacedLease({ namespace, name, body: this.leaseBody(lease, transitions, acquired) }));
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Gives up on a call after callTimeoutMs; its late answer, if any, is dropped. */
  private call<T>(what: string, request: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LeaseCallTimeout(what, this.callTimeoutMs)), this.callTimeoutMs);
    });
    request.catch(() => {});
    return Promise.race([request, timedOut]).finally(() => clearTimeout(timer));
  }

  private leaseBody(existing: V1Lease | undefined, transitions: number, acquireTime?: Date): V1Lease {
    const now = this.wall();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...(existing?.metadata ?? {}), name: this.o.name, namespace: this.o.namespace },
      spec: {
        holderIdentity: this.o.identity,
        leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
        acquireTime: acquireTime ? new V1MicroTime(acquireTime.getTime()) : new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: transitions,
      },
    };
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
