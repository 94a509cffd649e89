// The benchmark's own watch of every CanaryRelease (admin identity, so not
// counted as the operator's requests): records each distinct status.
import { CustomObjectsApi, makeInformer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { hasEnded, observe, record, type ReleaseHistory } from './release-history.js';

type Release = KubernetesObject & { status?: Record<string, unknown> };

export class ReleaseWatch {
  readonly histories = new Map<string, ReleaseHistory>();
  private readonly informer;
  private stopped = false;

  constructor(kc: KubeConfig) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const list = () =>
      custom.listClusterCustomObject({ group: 'canary-operator.dev', version: 'v1alpha1', plural: 'canaryreleases' }) as Promise<KubernetesListObject<Release>>;
    this.informer = makeInformer<Release>(kc, '/apis/canary-operator.dev/v1alpha1/canaryreleases', list);
    const seen = (o: Release) => this.seen(o);
    this.informer.on('add', seen);
    this.informer.on('update', seen);
    // client-node's informer stops on errors; the benchmark's must not miss the rest of the run.
    this.informer.on('error', () => {
      if (!this.stopped) setTimeout(() => void this.informer.start(), 1000);
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
  }

  ended(): number {
    let n = 0;
    for (const h of this.histories.values()) if (hasEnded(h)) n++;
    return n;
  }

  private seen(o: Release): void {
    const now = Date.now();
    const md = o.metadata ?? {};
    const key = `${md.namespace}/${md.name}`;
    let h = this.histories.get(key);
    if (!h) {
      h = { namespace: md.namespace ?? '', name: md.name ?? '', creationTimestamp: new Date(md.creationTimestamp ?? 0).toISOString(), statuses: [] };
      this.histories.set(key, h);
    }
    const st = observe(o as { metadata?: { resourceVersion?: string }; status?: Record<string, unknown> }, now);
    if (st) record(h, st);
  }
}
