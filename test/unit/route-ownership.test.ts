import { describe, expect, test } from '@jest/globals';
import type { CanaryReleaseStatus } from '../../src/api/status.js';
import type { CanaryReleaseObject } from '../../src/controller/ports.js';
import { routeOwner, sameRoute } from '../../src/controller/route-ownership.js';
import { NOW, NS, TARGET, iso, istioRef, pending, progressing } from './release-fixtures.js';

const obj = (name: string, status?: CanaryReleaseStatus, created = iso(-600)): CanaryReleaseObject => ({
  apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease',
  metadata: { name, namespace: NS, creationTimestamp: new Date(created) },
  status,
});
const holding = (since: number, extra: Partial<CanaryReleaseStatus> = {}) => progressing(1, 10, iso(since), { ownsRouteSince: iso(since), releaseStartedAt: iso(since), ...extra });
const waiting = (started: number) => pending({ releaseStartedAt: iso(started) });

describe('sameRoute', () => {
  test('same VirtualService and service: the same route unless both name disjoint routes', () => {
    const named = (routes?: string[]) => istioRef('reviews', routes ? { routes } : {});
    expect(sameRoute(named(), named())).toBe(true);
    expect(sameRoute(named(['a']), named())).toBe(true);
    expect(sameRoute(named(['a', 'b']), named(['b']))).toBe(true);
    expect(sameRoute(named(['a']), named(['b']))).toBe(false);
    expect(sameRoute(named(), istioRef('other'))).toBe(false);
    expect(sameRoute(named(), istioRef('reviews', { service: 'ratings' }))).toBe(false);
    // Another DestinationRule does not make another route: the weights live in the VirtualService.
    expect(sameRoute(named(), istioRef('reviews', { destinationRule: 'reviews-dr2' }))).toBe(true);
  });

  test('an HTTPRoute and a VirtualService of the same name are different routes; HTTPRoutes compare by name and rules', () => {
    const http = (name: string, rules?: string[]) => ({ provider: 'gateway-api', kind: 'HTTPRoute', name, ...(rules ? { rules } : {}), scope: {}, uses: {} });
    expect(sameRoute(http('reviews'), istioRef('reviews'))).toBe(false);
    expect(sameRoute(http('reviews'), http('reviews', ['primary']))).toBe(true);
    expect(sameRoute(http('reviews', ['a']), http('reviews', ['b']))).toBe(false);
    expect(sameRoute(http('reviews'), http('ratings'))).toBe(false);
  });
});

describe('routeOwner', () => {
  test('nobody else: this release owns the route', () => {
    expect(routeOwner(obj('me'), TARGET, [obj('me')], NOW)).toBeUndefined();
  });

  test('a release holding the route owns it; one about to start waits, whatever the clocks say', () => {
    const owner = routeOwner(obj('me', undefined, iso(-9999)), TARGET, [obj('other', holding(-5))], NOW);
    expect(owner).toMatchObject({ release: `${NS}/other`, route: `VirtualService ${NS}/reviews` });
    expect(owner?.description).toBe(`v1 -> v2, started at ${iso(-5)}`);
  });

  test('a waiting release that started earlier does not take a route another one holds', () => {
    expect(routeOwner(obj('me', waiting(-100)), TARGET, [obj('other', holding(-5))], NOW)?.release).toBe(`${NS}/other`);
  });

  test('with nobody holding it, the waiting release that started first takes it', () => {
    expect(routeOwner(obj('me', waiting(-50)), TARGET, [obj('other', waiting(-100))], NOW)?.release).toBe(`${NS}/other`);
    expect(routeOwner(obj('me', waiting(-100)), TARGET, [obj('other', waiting(-50))], NOW)).toBeUndefined();
  });

  test('ties go to the older object, then the name', () => {
    expect(routeOwner(obj('b', waiting(-50), iso(-10)), TARGET, [obj('a', waiting(-50), iso(-10))], NOW)?.release).toBe(`${NS}/a`);
    expect(routeOwner(obj('a', waiting(-50), iso(-10)), TARGET, [obj('b', waiting(-50), iso(-20))], NOW)?.release).toBe(`${NS}/b`);
  });

  test('finished releases do not hold a route, unless their last write is not settled yet', () => {
    const settled = obj('other', holding(-60, { phase: 'Succeeded', canaryWeight: 100, previousCanaryWeight: 100 }));
    expect(routeOwner(obj('me'), TARGET, [settled], NOW)).toBeUndefined();
    const writing = obj('other', holding(-60, { phase: 'Succeeded', canaryWeight: 100, previousCanaryWeight: 50 }));
    expect(routeOwner(obj('me'), TARGET, [writing], NOW)?.release).toBe(`${NS}/other`);
    const noRoute = obj('other', holding(-60, { phase: 'RolledBack', canaryWeight: 0, routeRevision: undefined }));
    expect(routeOwner(obj('me'), TARGET, [noRoute], NOW)).toBeUndefined();
    const failed = obj('other', holding(-60, { phase: 'Failed', canaryWeight: 0, previousCanaryWeight: 10 }));
    expect(routeOwner(obj('me'), TARGET, [failed], NOW)).toBeUndefined();
  });

  test('a replaced release still returning its old route to stable holds that route too', () => {
    const moved = holding(-60, { target: istioRef('reviews-b'), restore: { target: TARGET, stableSubset: 'v1', canarySubset: 'v2' } });
    expect(routeOwner(obj('me'), TARGET, [obj('other', moved)], NOW)?.release).toBe(`${NS}/other`);
  });

  test('releases on other routes do not matter', () => {
    const elsewhere = holding(-5, { target: istioRef('ratings') });
    expect(routeOwner(obj('me'), TARGET, [obj('other', elsewhere)], NOW)).toBeUndefined();
  });
});

describe('a release that moved to another VirtualService (restore pending on its old one)', () => {
  const other = istioRef('reviews2');
  test('holds its old route only; the release already progressing on the new one keeps it', () => {
    // A held reviews since -1h; its spec now names reviews2, where C has been progressing since -10m.
    const a = obj('a', { ...pending({ releaseStartedAt: iso(0) }), target: other, ownsRouteSince: iso(-3600),
      restore: { target: TARGET, stableSubset: 'v1', canarySubset: 'v2' } });
    const c = obj('c', progressing(2, 50, iso(-300), { target: other, ownsRouteSince: iso(-600), releaseStartedAt: iso(-600) }));
    expect(routeOwner(c, other, [a, c], NOW)).toBeUndefined();
    expect(routeOwner(a, other, [a, c], NOW)?.release).toBe(`${NS}/c`);
  });

  test('still holds the old route while its restore is pending, against a newer release there', () => {
    const a = obj('a', { ...pending({ releaseStartedAt: iso(0) }), target: other, ownsRouteSince: iso(-3600),
      restore: { target: TARGET, stableSubset: 'v1', canarySubset: 'v2' } });
    const b = obj('b', waiting(-60));
    expect(routeOwner(b, TARGET, [a, b], NOW)?.release).toBe(`${NS}/a`);
  });
});
