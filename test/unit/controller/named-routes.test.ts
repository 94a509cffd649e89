// The routes a release names decide which releases the work queue keeps apart
// (one at a time per route object); the references, what wakes a release.
import { describe, expect, test } from '@jest/globals';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';
import { namedBy } from '../../../src/controller/named-routes.js';
import type { RouteRef } from '../../../src/core/plan.js';
import { NS, baseSpec, istioRef, progressing } from '../release-fixtures.js';

const references = (ref: RouteRef, stable: string, canary: string) => [`${ref.kind}/${ref.name}`, `Subsets/${stable}+${canary}`];
const release = (spec: unknown, status?: Record<string, unknown>): CanaryReleaseObject => ({
  apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease', metadata: { name: 'r', namespace: NS }, spec, status,
});

describe('namedBy', () => {
  test('a release not started yet names its spec route', () => {
    expect(namedBy(release(baseSpec()), references)).toEqual({ routes: ['VirtualService/reviews'], refs: ['VirtualService/reviews', 'Subsets/v1+v2'] });
  });

  test('an HTTPRoute and a VirtualService of one name are two routes', () => {
    const spec = { httpRoute: { name: 'reviews' }, stable: { service: 'reviews-v1' }, canary: { service: 'reviews-v2' }, steps: baseSpec().steps };
    const status = progressing(1, 10, '2026-12-01T00:00:00Z', { target: istioRef('reviews') });
    expect(namedBy(release(spec, status), references).routes).toEqual(['HTTPRoute/reviews', 'VirtualService/reviews']);
  });

  test('a spec moved to another route: the route in effect (status) and the new one', () => {
    const status = progressing(1, 10, '2026-12-01T00:00:00Z', { target: istioRef('reviews-old') });
    expect(namedBy(release(baseSpec(), status), references).routes).toEqual(['VirtualService/reviews', 'VirtualService/reviews-old']);
  });

  test('a replaced release still being restored names its old route too', () => {
    const status = progressing(1, 10, '2026-12-01T00:00:00Z', { restore: { target: istioRef('reviews-b'), stableSubset: 'v1', canarySubset: 'v3' } });
    expect(namedBy(release(baseSpec(), status), references)).toEqual({
      routes: ['VirtualService/reviews', 'VirtualService/reviews-b'],
      refs: ['VirtualService/reviews', 'Subsets/v1+v2', 'VirtualService/reviews-b', 'Subsets/v1+v3'],
    });
  });

  test('a spec that names no route, and no status: nothing (the release is its own group)', () => {
    expect(namedBy(release({ service: 'reviews' }), references)).toEqual({ routes: [], refs: [] });
    // A status target that is not a route (a hand-edited status) is ignored too.
    expect(namedBy(release({ service: 'reviews' }, { target: { name: 42 } }), references)).toEqual({ routes: [], refs: [] });
  });
});
