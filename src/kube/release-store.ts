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

  constructor(
    private readonly api: CustomObjectsApi,
    private readonly informer: Watched<CanaryReleaseObject>,
  ) {}

  get(namespace: string, name: string): CanaryReleaseObject | undefined {
    return this.writes.freshest(`${namespace}/${name}`, this.informer.get(name, namespace));
  }

  list(namespace: string): CanaryReleaseObject[] {
    return this.informer.list(namespace).flatMap((o) => {
      const fresh = this.writes.freshest(`${namespace}/${o.metadata?.name}`, o);
      return fresh ? [fresh] : [];
    });
  }

  async writeStatus(release: CanaryReleaseObject, status: CanaryReleaseStatus): Promise<CanaryReleaseObject> {
    const { namespace, name } = ids(release);
    const body = { ...release, status };
    const updated = (await guard(`CanaryRelease ${namespace}/${name}`, () =>
      this.api.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body }),
    )) as CanaryReleaseObject;
    this.writes.wrote(`${namespace}/${name}`, release.metadata?.resourceVersion, updated);
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
    this.writes.wrote(`${namespace}/${name}`, release.metadata?.resourceVersion, updated);
    return updated;
  }
}

function ids(o: CanaryReleaseObject): { namespace: string; name: string } {
  return { namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' };
}
