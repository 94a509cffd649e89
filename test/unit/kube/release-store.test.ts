// What a write returns is kept until the cache catches up (write-tracker.ts,
// for releases and routes alike): trimmed like the cache, no managedFields.
import { describe, expect, test } from '@jest/globals';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';
import { KubeReleaseStore } from '../../../src/kube/release-store.js';
import type { Watched } from '../../../src/kube/watched.js';

const cached: CanaryReleaseObject = { apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease', metadata: { name: 'reviews', namespace: 'bookinfo', resourceVersion: '5' } };
const managedFields = [{ manager: 'canary-operator', operation: 'Update', subresource: 'status', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:phase': {} } } }];

describe('KubeReleaseStore', () => {
  test('a written status is read back at once, without the managedFields the API server returned', async () => {
    const api = {
      replaceNamespacedCustomObjectStatus: async ({ body }: { body: CanaryReleaseObject }) => ({ ...body, metadata: { ...body.metadata, resourceVersion: '6', managedFields } }),
    } as unknown as CustomObjectsApi;
    const informer = { get: () => cached, list: () => [cached] } as unknown as Watched<CanaryReleaseObject>;
    const store = new KubeReleaseStore(api, informer);
    const written = await store.writeStatus(cached, { phase: 'Pending' });
    expect(written.metadata?.managedFields).toBeUndefined();
    // The cache still shows resourceVersion 5: the write's answer is the freshest copy.
    expect(store.get('bookinfo', 'reviews')).toMatchObject({ metadata: { resourceVersion: '6' }, status: { phase: 'Pending' } });
    expect(store.get('bookinfo', 'reviews')?.metadata?.managedFields).toBeUndefined();
  });
  test("a namespace's list is the same array while nothing changed, and shows a write or a new cache list at once", async () => {
    const api = {
      replaceNamespacedCustomObjectStatus: async ({ body }: { body: CanaryReleaseObject }) => ({ ...body, metadata: { ...body.metadata, resourceVersion: '6' } }),
    } as unknown as CustomObjectsApi;
    const other: CanaryReleaseObject = { ...cached, metadata: { ...cached.metadata, name: 'ratings', resourceVersion: '7' } };
    let cacheList: CanaryReleaseObject[] = [cached, other];
    const informer = { get: (name: string) => cacheList.find((o) => o.metadata?.name === name), list: () => cacheList } as unknown as Watched<CanaryReleaseObject>;
    const store = new KubeReleaseStore(api, informer);
    const first = store.list('bookinfo');
    expect(store.list('bookinfo')).toBe(first);
    // Our write shows before the cache has it, in a new list.
    await store.writeStatus(cached, { phase: 'Pending' });
    const afterWrite = store.list('bookinfo');
    expect(afterWrite).not.toBe(first);
    expect(afterWrite.map((o) => [o.metadata?.name, o.metadata?.resourceVersion, (o.status as { phase?: string } | undefined)?.phase])).toEqual([['reviews', '6', 'Pending'], ['ratings', '7', undefined]]);
    expect(store.list('bookinfo')).toBe(afterWrite);
    // A write in another namespace leaves this one's list as it is.
    await store.writeStatus({ ...cached, metadata: { ...cached.metadata, namespace: 'shop' } }, { phase: 'Pending' });
    expect(store.list('bookinfo')).toBe(afterWrite);
    // The cache moved on (someone else's change): its list is read anew.
    cacheList = [{ ...cached, metadata: { ...cached.metadata, resourceVersion: '9' }, status: { phase: 'Progressing' } }, other];
    expect(store.list('bookinfo').map((o) => [o.metadata?.resourceVersion, (o.status as { phase?: string } | undefined)?.phase])).toEqual([['9', 'Progressing'], ['7', undefined]]);
  });
});
