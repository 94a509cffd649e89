// CanaryRelease reads from the informer cache; status and finalizer writes
// through the API, guarded by resourceVersion so a conflict retries instead of
// clobbering. The spec is never written.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { FINALIZER, GROUP, PLURAL, VERSION } from '../api/names.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { CanaryReleaseObject, ReleaseStore } from '../controller/ports.js';
import { conflictGuard as guard } from './errors.js';
import type { Watched } from './watched.js';
import { WriteTracker } from './write-tracker.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubeReleaseStore implements ReleaseStore {
  private readonly writes = new WriteTracker<CanaryReleaseObject>();
  /** Writes so far per namespace, and each namespace's list as last read with them. */
  private readonly writesIn = new Map<string, number>();
  private readonly lists = new Map<string, { cached: ReadonlyArray<CanaryReleaseObject>; writes: number; list: ReadonlyArray<CanaryReleaseObject> }>();

  constructor(
    private readonly api: CustomObjectsApi,
    private readonly informer: Watched<CanaryReleaseObject>,
  ) {}

  get(namespace: string, name: string): CanaryReleaseObject | undefined {
    return this.writes.freshest(`${namespace}/${name}`, this.informer.get(name, namespace));
  }

  /**
   * The namespace's releases, each the freshest copy. Every reconcile reads its namespace's (route
   * ownership), so the list is kept while neither the cache's list nor our writes in the namespace changed.
   */
  list(namespace: string): ReadonlyArray<CanaryReleaseObject> {
    const cached = this.informer.list(namespace);
    const writes = this.writesIn.get(namespace) ?? 0;
    const kept = this.lists.get(namespace);
    if (kept && kept.cached === cached && kept.writes === writes) return kept.list;
    const list = Object.freeze(cached.flatMap((o) => {
      const fresh = this.writes.freshest(`${namespace}/${o.metadata?.name}`, o);
      return fresh ? [fresh] : [];
    }));
    this.lists.set(namespace, { cached, writes, list });
    return list;
  }

  private wrote(namespace: string, name: string, before: string | undefined, after: CanaryReleaseObject): void {
    this.writes.wrote(`${namespace}/${name}`, before, after);
    this.writesIn.set(namespace, (this.writesIn.get(namespace) ?? 0) + 1);
  }

  async writeStatus(release: CanaryReleaseObject, status: CanaryReleaseStatus): Promise<CanaryReleaseObject> {
    const { namespace, name } = ids(release);
    const body = { ...release, status };
    const updated = (await guard(`CanaryRelease ${namespace}/${name}`, () =>
      this.api.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body }),
    )) as CanaryReleaseObject;
    this.wrote(namespace, name, release.metadata?.resourceVersion, updated);
    return updated;
  }

  async addFinalizer(release: CanaryReleaseObject): Promise<CanaryReleaseObject> {
    const finalizers = [...(release.metadata?.finalizers ?? []), FINALIZER];
    return this.patchFinalizers(release, finalizers);
  }

  async removeFinalizer(release: CanaryReleaseObject): Promise<void> {
    await this.patchFinalizers(release, (release.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER));
  }

  private async patchFinalizers(release: CanaryReleaseObject, finalizers: string[]): Promise<CanaryReleaseObject> {
    const { namespace, name } = ids(release);
    const body = { metadata: { resourceVersion: release.metadata?.resourceVersion, finalizers } };
    const updated = (await guard(`CanaryRelease ${namespace}/${name}`, () =>
      this.api.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body }, mergePatch),
    )) as CanaryReleaseObject;
    this.wrote(namespace, name, release.metadata?.resourceVersion, updated);
    return updated;
  }
}

function ids(o: CanaryReleaseObject): { namespace: string; name: string } {
  return { namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' };
}
