// Leader election on a coordination.k8s.io Lease, as client-go does it: the
// holder renews the lease every retry period; a candidate takes it over only
// after leaseDuration without renewal, and every write is guarded by the
// lease's resourceVersion, so two replicas never both believe they lead.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isConflict, isNotFound } from './errors.js';

export interface LeaderElectionOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leadership. */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void;
  clock?: () => number;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  private observed: { holder?: string | undefined; rv?: string | undefined; seenAt: number } | undefined;

  constructor(private readonly o: LeaderElectionOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  private now(): number {
    return this.o.clock?.() ?? Date.now();
  }

  start(): void {
    this.o.log.info({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }, 'waiting to become leader');
    void this.tick();
  }

  /** Stops trying; a leader gives the lease up at once so a standby takes over without waiting for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.o.api.readNamespacedLease({ namespace: this.o.namespace, name: this.o.name });
      if (lease.spec?.holderIdentity === this.o.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.renewTime = new V1MicroTime(this.now() - this.o.leaseDurationMs);
        lease.spec.leaseDurationSeconds = 1;
        await this.o.api.replaceNamespacedLease({ namespace: this.o.namespace, name: this.o.name, body: lease });
        this.o.log.info('released leadership');
      }
    } catch (err) {
      this.o.log.warn({ err: String(err) }, 'could not release the lease; the next leader waits for it to expire');
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.o.retryPeriodMs * (this.leading ? 1 : 1 + Math.random() * 0.2));
  }

  private async tick(): Promise<void> {
    try {
      const won = await this.tryAcquireOrRenew();
      if (won) this.lastRenew = this.now();
      if (won && !this.leading && !this.stopped) {
        this.leading = true;
        this.o.log.info({ identity: this.o.identity }, 'became leader');
        await this.o.onStartedLeading();
      }
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'lease update failed');
    }
    if (this.leading && this.now() - this.lastRenew > this.o.renewDeadlineMs) {
      this.leading = false;
      this.o.log.error({ identity: this.o.identity }, 'lost leadership: could not renew the lease in time');
      this.o.onStoppedLeading();
      return;
    }
    this.schedule();
  }

  /** One attempt; true when this instance holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.o;
    const now = this.now();
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await api.createNamespacedLease({ namespace, body: this.leaseBody(undefined, now, 0) });
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const rv = lease.metadata?.resourceVersion;
    // Expiry is judged by when *we* saw the lease change, not by the holder's clock.
    if (!this.observed || this.observed.rv !== rv) this.observed = { holder, rv, seenAt: now };
    const durationMs = (spec.leaseDurationSeconds ?? this.o.leaseDurationMs / 1000) * 1000;
    const held = holder && holder !== identity && this.observed.seenAt + durationMs > now;
    if (held) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    const acquired = holder === identity && spec.acquireTime ? new Date(String(spec.acquireTime)) : undefined;
    const body = this.leaseBody(lease, now, transitions, acquired);
    try {
      await api.replaceNamespacedLease({ namespace, name, body });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private leaseBody(existing: V1Lease | undefined, now: number, transitions: number, acquireTime?: Date): V1Lease {
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
