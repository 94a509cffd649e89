// Kubernetes Events on the CanaryRelease, so `kubectl describe` tells the story.
import { PatchStrategy, setHeaderOptions, type CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { COMPONENT } from '../api/names.js';
import type { CanaryReleaseObject, EventRecorder } from '../controller/ports.js';
import type { DecisionEvent } from '../core/decide.js';
import { EventSeries, seriesKey } from './event-series.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly log: Logger,
    private readonly instance: string,
    private readonly series = new EventSeries(),
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async record(release: CanaryReleaseObject, e: DecisionEvent): Promise<void> {
    const now = this.clock();
    const md = release.metadata ?? {};
    const namespace = md.namespace ?? 'default';
    const message = e.message.slice(0, 1024);
    const key = seriesKey(namespace, md.name ?? '', md.uid, e.type, e.reason, message);
    const repeat = this.series.repeatOf(key, now.getTime());
    if (repeat) {
      try {
        await this.core.patchNamespacedEvent({ name: repeat.name, namespace, body: { count: repeat.count + 1, lastTimestamp: now } }, mergePatch);
        this.series.remember(key, { ...repeat, count: repeat.count + 1, lastMs: now.getTime() });
        return;
      } catch (err) {
        // Gone (expired after the API server's event TTL, or deleted): a new Event starts a new series.
        this.series.forget(key);
        this.log.debug({ err: String(err), reason: e.reason }, 'could not count a repeated Event; creating it again');
      }
    }
    const name = eventName(md.name ?? 'release', now);
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: release.apiVersion,
            kind: release.kind,
            name: md.name,
            namespace,
            uid: md.uid,
            resourceVersion: md.resourceVersion,
          },
          reason: e.reason,
          message,
          type: e.type,
          source: { component: COMPONENT },
          reportingComponent: COMPONENT,
          reportingInstance: this.instance,
          action: e.reason,
          firstTimestamp: now,
          lastTimestamp: now,
          eventTime: undefined,
          count: 1,
        },
      });
      this.series.remember(key, { name, count: 1, lastMs: now.getTime() });
    } catch (err) {
      // An Event that cannot be written must never fail the reconcile.
      this.log.warn({ err: String(err), reason: e.reason }, 'could not record Event');
    }
  }
}

let sequence = 0;
/** Like client-go: the object name plus a hex timestamp, so Event names sort in the order they were made. */
function eventName(object: string, now: Date): string {
  const micros = BigInt(now.getTime()) * 1000n + BigInt(sequence++ % 1000);
  return `${object}.${micros.toString(16)}`;
}
