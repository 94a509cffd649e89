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
  test("the watch events of its own writes are told apart from anyone else's versions", async () => {
    let rv = 5;
    const bump = async ({ body }: { body: CanaryReleaseObject }) => ({ ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } });
    const api = { replaceNamespacedCustomObjectStatus: bump, patchNamespacedCustomObject: async ({ body }: { body: CanaryReleaseObject }) => bump({ body: { ...cached, metadata: { ...cached.metadata, ...body.metadata } } }) } as unknown as CustomObjectsApi;
    const informer = { get: () => cached, list: () => [cached] } as unknown as Watched<CanaryReleaseObject>;
    const store = new KubeReleaseStore(api, informer);
    const at = (v: string, name = 'reviews'): CanaryReleaseObject => ({ ...cached, metadata: { ...cached.metadata, name, resourceVersion: v } });
    // One look writes the finalizer (6), then the status (7): both events are its own, each once.
    const withFinalizer = await store.addFinalizer(cached);
    await store.writeStatus(withFinalizer, { phase: 'Pending' });
    expect([store.isOwnWrite(at('6')), store.isOwnWrite(at('7')), store.isOwnWrite(at('7'))]).toEqual([true, true, false]);
    // Another release's name, or a version nobody of ours made, is not ours.
    await store.writeStatus(at('7'), { phase: 'Progressing' });
    expect(store.isOwnWrite(at('8', 'ratings'))).toBe(false);
    expect(store.isOwnWrite(at('9'))).toBe(false);
    // Someone else's version came first: ours before it are past, never taken for a later event.
    expect(store.isOwnWrite(at('8'))).toBe(false);
    // A deleted release forgets what it wrote.
    await store.writeStatus(at('9'), { phase: 'Progressing' });
    store.forget('bookinfo', 'reviews');
    expect(store.isOwnWrite(at('10'))).toBe(false);
  });
});
