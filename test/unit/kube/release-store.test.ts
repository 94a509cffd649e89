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
});
