import { describe, expect, test } from '@jest/globals';
import { pickByShare, selectVirtualService, splitTraffic, type VirtualServiceLike } from '../../tools/mesh-simulator/routing.js';

const dest = (subset: string, weight?: number, host = 'reviews') => ({ destination: { host, subset }, ...(weight !== undefined ? { weight } : {}) });
const vs = (http: unknown[], extra: Record<string, unknown> = {}, name = 'reviews', created = '2024-01-01T00:00:00Z'): VirtualServiceLike => ({
  metadata: { name, namespace: 'prod', creationTimestamp: created },
  spec: { hosts: ['reviews'], http, ...extra },
});
const shares = (v: VirtualServiceLike, matchShare = 0) => {
  const s = splitTraffic(v, matchShare);
  return { routes: s.destinations.map((d) => [d.routeName ?? d.route, d.subset, +d.share.toFixed(6)]), unrouted: +s.unrouted.toFixed(6) };
};

describe('splitTraffic', () => {
  const bookinfo = (v1: number, v2: number) =>
    vs([
      { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest('v2')] },
      { name: 'primary', route: [dest('v1', v1), dest('v2', v2)] },
    ]);

  test('splits the first route without match by weight when nothing matches (matchShare 0)', () => {
    expect(shares(bookinfo(80, 20))).toEqual({ routes: [['primary', 'v1', 0.8], ['primary', 'v2', 0.2]], unrouted: 0 });
  });

  test('gives a match route its matchShare and splits the rest', () => {
    expect(shares(bookinfo(80, 20), 0.1)).toEqual({
      routes: [['jason', 'v2', 0.1], ['primary', 'v1', 0.72], ['primary', 'v2', 0.18]],
      unrouted: 0,
    });
  });

  test('applies matchShare to what is left at each match route, in order', () => {
    const v = vs([
      { name: 'a', match: [{ uri: { prefix: '/a' } }], route: [dest('v3')] },
      { name: 'b', match: [{ uri: { prefix: '/b' } }], route: [dest('v2')] },
      { name: 'rest', route: [dest('v1')] },
    ]);
    expect(shares(v, 0.5)).toEqual({ routes: [['a', 'v3', 0.5], ['b', 'v2', 0.25], ['rest', 'v1', 0.25]], unrouted: 0 });
  });

  test('gives a weight-less lone destination 100% and ignores routes after the catch-all', () => {
    const v = vs([{ name: 'only', route: [dest('v1')] }, { name: 'never', route: [dest('v2')] }]);
    expect(shares(v)).toEqual({ routes: [['only', 'v1', 1]], unrouted: 0 });
  });

  test('normalises weights that do not sum to 100 and drops zero weights', () => {
    expect(shares(bookinfo(30, 10))).toEqual({ routes: [['primary', 'v1', 0.75], ['primary', 'v2', 0.25]], unrouted: 0 });
    expect(shares(bookinfo(100, 0))).toEqual({ routes: [['primary', 'v1', 1]], unrouted: 0 });
  });

  test('counts a missing weight next to other destinations as 0', () => {
    expect(shares(vs([{ route: [dest('v1', 100), dest('v2')] }]))).toEqual({ routes: [[0, 'v1', 1]], unrouted: 0 });
  });

  test('leaves traffic unrouted when only match routes exist or a route has no destinations', () => {
    const onlyMatch = vs([{ name: 'm', match: [{ uri: { prefix: '/' } }], route: [dest('v1')] }]);
    expect(shares(onlyMatch, 0.25)).toEqual({ routes: [['m', 'v1', 0.25]], unrouted: 0.75 });
    expect(shares(vs([{ name: 'redirect', redirect: { uri: '/x' } }]))).toEqual({ routes: [], unrouted: 1 });
    expect(shares(vs([{ route: [dest('v1', 0), dest('v2', 0)] }]))).toEqual({ routes: [], unrouted: 1 });
  });

  test('an empty match list is no match block', () => {
    expect(shares(vs([{ name: 'x', match: [], route: [dest('v1')] }]), 0.5)).toEqual({ routes: [['x', 'v1', 1]], unrouted: 0 });
  });
});

describe('selectVirtualService', () => {
  test('finds the service by short, namespaced or FQDN host and skips gateway-only ones', () => {
    const fqdn = { ...vs([]), spec: { hosts: ['reviews.prod.svc.cluster.local'], http: [] } };
    const gatewayOnly = { ...vs([]), spec: { hosts: ['reviews'], gateways: ['bookinfo-gateway'], http: [] } };
    const other = { ...vs([]), spec: { hosts: ['ratings'], http: [] } };
    expect(selectVirtualService([other, fqdn], 'prod', 'reviews')).toBe(fqdn);
    expect(selectVirtualService([gatewayOnly, other], 'prod', 'reviews')).toBeUndefined();
    const meshToo = { ...gatewayOnly, spec: { ...(gatewayOnly.spec as object), gateways: ['bookinfo-gateway', 'mesh'] } };
    expect(selectVirtualService([meshToo], 'prod', 'reviews')).toBe(meshToo);
  });

  test('picks the oldest when several claim the host', () => {
    const newer = vs([], {}, 'a', '2024-06-01T00:00:00Z');
    const older = vs([], {}, 'b', '2024-01-01T00:00:00Z');
    expect(selectVirtualService([newer, older], 'prod', 'reviews')).toBe(older);
  });
});

describe('pickByShare', () => {
  const items = [{ id: 'a', share: 0.8 }, { id: 'zero', share: 0 }, { id: 'b', share: 0.2 }];
  test('maps [0, 1) onto the cumulative shares', () => {
    expect(pickByShare(items, 0)?.id).toBe('a');
    expect(pickByShare(items, 0.7999)?.id).toBe('a');
    expect(pickByShare(items, 0.8)?.id).toBe('b');
    expect(pickByShare(items, 0.999999)?.id).toBe('b');
  });
  test('scales to the total so rounding leaves no gap, and is undefined without shares', () => {
    expect(pickByShare([{ share: 0.3333333 }, { share: 0.3333333 }, { share: 0.3333333 }], 0.99999999)).toEqual({ share: 0.3333333 });
    expect(pickByShare([{ share: 0 }], 0.5)).toBeUndefined();
  });
});
