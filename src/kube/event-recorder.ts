// Kubernetes Events on the CanaryRelease, so `kubectl describe` tells the story.
import { randomBytes } from 'node:crypto';
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
          metadata: { name: `${md.name}.${randomBytes(8).toString('hex')}`, namespace },
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
