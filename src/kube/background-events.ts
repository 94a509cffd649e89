// Events are sent beside the reconcile, not in its path: a worker moves on
// once the status and the route are written. A release's Events still go out
// one after another, in the order they were decided (`kubectl describe` and
// `kubectl canary status` order them by second-precision timestamps, so sent
// together they could swap). At most `sending` go out at once, so in a burst
// (a thousand releases created together) they trail the status and route
// writes instead of competing with them for the API server; at most `limit`
// wait in all, and beyond that a reconcile waits for room (backpressure, not
// an unbounded backlog). On shutdown, flush() sends what is left.
import type { CanaryReleaseObject, EventRecorder } from '../controller/ports.js';
import type { DecisionEvent } from '../core/decide.js';

export const DEFAULT_EVENT_BACKLOG = 256;
export const DEFAULT_EVENTS_SENDING = 2;

export class BackgroundEventRecorder implements EventRecorder {
  private readonly tails = new Map<string, Promise<void>>();
  private waiting = 0;
  private readonly room: (() => void)[] = [];
  private inFlight = 0;
  private readonly turns: (() => void)[] = [];

  constructor(
    private readonly inner: EventRecorder,
    private readonly limit = DEFAULT_EVENT_BACKLOG,
    private readonly sending = DEFAULT_EVENTS_SENDING,
  ) {}

  /** Resolves once the Event is queued behind the release's earlier ones (not once it is sent). */
  async record(release: CanaryReleaseObject, event: DecisionEvent): Promise<void> {
    while (this.waiting >= this.limit) await new Promise<void>((resolve) => this.room.push(resolve));
    this.waiting++;
    const key = `${release.metadata?.namespace}/${release.metadata?.name}`;
    const before = this.tails.get(key) ?? Promise.resolve();
    // The recorder never throws by contract; a bug there must not stop the release's later Events.
    const sent: Promise<void> = before.then(() => this.send(release, event)).catch(() => {}).finally(() => {
      this.waiting--;
      this.room.shift()?.();
      if (this.tails.get(key) === sent) this.tails.delete(key);
    });
    this.tails.set(key, sent);
  }

  private async send(release: CanaryReleaseObject, event: DecisionEvent): Promise<void> {
    while (this.inFlight >= this.sending) await new Promise<void>((resolve) => this.turns.push(resolve));
    this.inFlight++;
    try {
      await this.inner.record(release, event);
    } finally {
      this.inFlight--;
      this.turns.shift()?.();
    }
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
