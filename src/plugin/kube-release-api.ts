// The ReleaseApi on @kubernetes/client-node: CanaryReleases through the
// custom objects API, Events through core/v1.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION } from '../api/names.js';
import type { ReleaseApi, ReleaseEvent, ReleaseObject } from './release-api.js';
import { eventsOf } from './render-events.js';

export class KubeReleaseApi implements ReleaseApi {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async get(namespace: string, name: string): Promise<ReleaseObject> {
    return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as ReleaseObject;
  }

  async list(namespace: string | undefined): Promise<ReleaseObject[]> {
    const list = (namespace
      ? await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })
      : await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items?: ReleaseObject[] };
    return list.items ?? [];
  }

  async mergePatch(namespace: string, name: string, body: Record<string, unknown>): Promise<ReleaseObject> {
    return (await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as ReleaseObject;
  }

  async events(release: ReleaseObject): Promise<ReleaseEvent[]> {
    const list = await this.core.listNamespacedEvent({
      namespace: release.metadata.namespace,
      fieldSelector: `involvedObject.kind=${KIND},involvedObject.name=${release.metadata.name}`,
    });
    return eventsOf(list.items as ReleaseEvent[], release.metadata.uid);
  }
}
