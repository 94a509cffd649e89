// The caches share repeated strings between objects; what they keep must read
// exactly as the API server sent it (no key added, none changed), or every
// comparison of a status with the one decided would see a change.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { cachedCustomObject, cachedRelease } from '../../../src/kube/cached-strings.js';
import { StringPool } from '../../../src/util/string-pool.js';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';

const release = (status: unknown): CanaryReleaseObject => JSON.parse(JSON.stringify({
  apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease',
  metadata: { name: 'reviews', namespace: 'bookinfo', resourceVersion: '7', managedFields: [{ manager: 'kubectl' }] },
  spec: { stableSubset: 'v1' }, status,
})) as CanaryReleaseObject;

describe('StringPool', () => {
  test('keeps at most its entries and takes no string longer than its limit', () => {
    const pool = new StringPool(3, 5);
    for (const s of ['a', 'b', 'a', 'toolong', 'c', 'd', 'e']) expect(pool.intern(s)).toBe(s);
    expect(pool.size).toBe(3);
    expect(pool.intern(undefined)).toBeUndefined();
  });
});

describe('cachedRelease', () => {
  test('drops managedFields and reads as the object sent, with the keys it had', () => {
    const status = {
      phase: 'Progressing', summary: 'step 1/3 at 10%', stableSubset: 'v1', canarySubset: 'v2',
      releaseStartedAt: '2026-12-04T10:00:00.000Z', measureFrom: '2026-12-04T10:00:00.000Z',
      conditions: [{ type: 'SpecValid', status: 'True', reason: 'SpecValid', message: 'The spec is valid', lastTransitionTime: '2026-12-04T10:00:00.000Z', observedGeneration: 1 }],
      analysis: { evaluatedAt: '2026-12-04T10:00:30.000Z', verdict: 'Pass', consecutiveFailures: 0, gates: [{ name: 'errors', query: 'q', threshold: '<= 1%', verdict: 'Pass', message: 'ok' }] },
    };
    const o = cachedRelease(release(status));
    expect(o.metadata?.managedFields).toBeUndefined();
    expect(o.status).toEqual(status);
    expect(Object.keys(o.status as object)).toEqual(Object.keys(status));
  });

  test('any status, well-formed or not, reads the same after (property)', () => {
    const str = fc.oneof(fc.constantFrom('Progressing', 'True', '2026-12-04T10:00:00.000Z', ''), fc.string({ maxLength: 120 }));
    const value = fc.oneof(str, fc.integer(), fc.constant(null), fc.boolean());
    const condition = fc.dictionary(fc.constantFrom('type', 'status', 'reason', 'message', 'lastTransitionTime', 'other'), value);
    const status = fc.oneof(
      fc.record({
        phase: value, summary: value, releaseStartedAt: value, stepStartedAt: value, completedAt: value,
        conditions: fc.oneof(fc.array(fc.oneof(condition, value), { maxLength: 6 }), value),
        analysis: fc.oneof(fc.record({ verdict: value, evaluatedAt: value, gates: fc.oneof(fc.array(fc.oneof(fc.dictionary(fc.constantFrom('name', 'verdict', 'threshold', 'query'), value), value)), value) }, { requiredKeys: [] }), value),
      }, { requiredKeys: [] }),
      value,
    );
    fc.assert(fc.property(status, (s) => {
      const sent = JSON.parse(JSON.stringify(s ?? null)) as unknown;
      expect(cachedRelease(release(s)).status).toEqual(sent);
    }));
  });
});

describe('cachedCustomObject', () => {
  test('keeps apiVersion and kind as they are, and adds neither to an object without them', () => {
    const vs = cachedCustomObject(JSON.parse('{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"r"}}') as CanaryReleaseObject);
    expect([vs.apiVersion, vs.kind]).toEqual(['networking.istio.io/v1', 'VirtualService']);
    const bare = cachedCustomObject(JSON.parse('{"metadata":{"name":"r"}}') as CanaryReleaseObject);
    expect(Object.keys(bare)).toEqual(['metadata']);
  });
});
