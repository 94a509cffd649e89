// A release is looked at many times per version of its object: its spec and
// status are parsed once per object, and a new version is parsed anew.
import { describe, expect, test } from '@jest/globals';
import { statusOf, toSnapshot } from '../../../src/controller/snapshot.js';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';
import { NS, baseSpec } from '../release-fixtures.js';

const release = (phase: string): CanaryReleaseObject => ({
  apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease',
  metadata: { name: 'reviews-canary', namespace: NS, uid: 'u', resourceVersion: '1' }, spec: baseSpec(), status: { phase },
});

describe('parsed once per object version', () => {
  test('the same object gives the same parsed status and plan; a new version is parsed anew', () => {
    const v1 = release('Pending');
    const ctx = {};
    const a = toSnapshot(v1, ctx);
    const b = toSnapshot(v1, ctx);
    expect(b.status).toBe(a.status);
    expect(b.plan).toBe(a.plan);
    expect(statusOf(v1)).toBe(a.status);
    const v2 = { ...v1, status: { phase: 'Progressing' } };
    expect(toSnapshot(v2, ctx).status).toEqual({ phase: 'Progressing' });
    expect(toSnapshot(v2, ctx).plan).not.toBe(a.plan);
  });

  test('another validation context (other allowed addresses) resolves the plan again', () => {
    const v1 = release('Pending');
    const a = toSnapshot(v1, {});
    expect(toSnapshot(v1, { defaultPrometheusAddress: 'http://prom:9090' }).plan).not.toBe(a.plan);
  });

  test('an unreadable status reads as empty, once', () => {
    const bad = { ...release('Pending'), status: { phase: 42 } } as unknown as CanaryReleaseObject;
    expect(statusOf(bad)).toEqual({});
    expect(statusOf(bad)).toBe(statusOf(bad));
  });
});

describe('no second copy of a status that reads as it is', () => {
  test('a status the schema reads unchanged is the cached object\'s own; one of an older format or with unknown fields is read into a copy', () => {
    const current = release('Progressing');
    (current.status as Record<string, unknown>).conditions = [{ type: 'Progressing', status: 'True', reason: 'StepAdvanced', message: 'step 1', lastTransitionTime: '2026-12-04T00:00:00Z' }];
    expect(statusOf(current)).toBe(current.status);

    // Routes written before they were provider-neutral: read as the same route, so not the object as stored.
    const legacy = { ...release('Progressing'), status: { phase: 'Progressing', target: { service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' } } } };
    expect(statusOf(legacy)).not.toBe(legacy.status);
    expect(statusOf(legacy).target).toEqual({ provider: 'istio', kind: 'VirtualService', name: 'reviews', scope: { service: 'reviews' }, uses: { destinationRule: 'reviews' } });

    const unknownField = { ...release('Progressing'), status: { phase: 'Progressing', writtenByANewerVersion: 1 } };
    expect(statusOf(unknownField)).toEqual({ phase: 'Progressing' });
  });
});

describe('the creation time', () => {
  test.each([
    ['the API\'s string (a watched object)', '2026-12-04T10:00:00Z', Date.parse('2026-12-04T10:00:00Z')],
    ['a Date (a typed client\'s object)', new Date('2026-12-04T10:00:00Z'), Date.parse('2026-12-04T10:00:00Z')],
    ['none', undefined, undefined],
    ['an unreadable string', 'yesterday', undefined],
  ])('is read from %s', (_, creationTimestamp, expected) => {
    const o = release('Pending');
    o.metadata = { ...o.metadata, creationTimestamp: creationTimestamp as Date | undefined };
    expect(toSnapshot(o).createdAtMs).toBe(expected);
  });
});
