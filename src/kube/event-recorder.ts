// Kubernetes Events on the CanaryRelease, so `kubectl describe` tells the story.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { COMPONENT } from '../api/names.js';
import type { CanaryReleaseObject, EventRecorder } from '../controller/ports.js';
import type { DecisionEvent } from '../core/decide.js';

export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly log: Logger,
    private readonly instance: string,
  ) {}

  async record(release: CanaryReleaseObject, e: DecisionEvent): Promise<void> {
    const now = new Date();
    const md = release.metadata ?? {};
    const namespace = md.namespace ?? 'default';
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: eventName(md.name ?? 'release'), namespace },
          involvedObject: {
            apiVersion: release.apiVersion,
            kind: release.kind,
            name: md.name,
            namespace,
            uid: md.uid,
            resourceVersion: md.resourceVersion,
          },
          reason: e.reason,
          message: e.message.slice(0, 1024),
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
    } catch (err) {
      // An Event that cannot be written must never fail the reconcile.
      this.log.warn({ err: String(err), reason: e.reason }, 'could not record Event');
    }
  }
}

let sequence = 0;
/** Like client-go: the object name plus a hex timestamp, so Event names sort in the order they were made. */
function eventName(object: string): string {
  const micros = BigInt(Date.now()) * 1000n + BigInt(sequence++ % 1000);
  return `${object}.${micros.toString(16)}`;
}
