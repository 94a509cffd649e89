// Events are sent beside the reconcile, not in its path: a worker moves on
// once the status and the route are written. A release's Events still go out
// one after another, in the order they were decided (`kubectl describe` and
// `kubectl canary status` order them by second-precision timestamps, so sent
// together they could swap). At most `limit` Events wait in all; beyond that a
// reconcile waits for room, so a slow API server gets backpressure, not an
// unbounded backlog. On shutdown, flush() sends what is left.
import type { CanaryReleaseObject, EventRecorder } from '../controller/ports.js';
import type { DecisionEvent } from '../core/decide.js';

export const DEFAULT_EVENT_BACKLOG = 256;

export class BackgroundEventRecorder implements EventRecorder {
  private readonly tails = new Map<string, Promise<void>>();
  private waiting = 0;
  private readonly room: (() => void)[] = [];

  constructor(private readonly inner: EventRecorder, private readonly limit = DEFAULT_EVENT_BACKLOG) {}

  /** Resolves once the Event is queued behind the release's earlier ones (not once it is sent). */
  async record(release: CanaryReleaseObject, event: DecisionEvent): Promise<void> {
    while (this.waiting >= this.limit) await new Promise<void>((resolve) => this.room.push(resolve));
    this.waiting++;
    const key = `${release.metadata?.namespace}/${release.metadata?.name}`;
    const before = this.tails.get(key) ?? Promise.resolve();
    // The recorder never throws by contract; a bug there must not stop the release's later Events.
    const sent: Promise<void> = before.then(() => this.inner.record(release, event)).catch(() => {}).finally(() => {
      this.waiting--;
      this.room.shift()?.();
      if (this.tails.get(key) === sent) this.tails.delete(key);
    });
    this.tails.set(key, sent);
  }

  /** Events queued and not yet sent (for tests and metrics). */
  get backlog(): number {
    return this.waiting;
  }

  /** Resolves once every Event handed over so far has been sent. */
  async flush(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
