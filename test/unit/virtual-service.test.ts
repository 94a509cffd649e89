import { describe, expect, test } from '@jest/globals';
import { Reason } from '../../src/api/conditions.js';
import {
  hostMatches, resolveManagedRoutes, weightPatch,
  type ManagedRoute, type ReleaseTarget, type RouteResolution,
} from '../../src/traffic/istio/virtual-service.js';
import { splitsAt as routesAt, weightsFor } from '../../src/traffic/weighted-split.js';
import { NS, applyJsonPatch, target } from './release-fixtures.js';

type Dest = { destination: { host: string; subset?: string; port?: { number: number } }; weight?: number };
type Http = { name?: string; match?: unknown[]; route?: Dest[]; retries?: unknown; timeout?: string; headers?: unknown };

function vsWith(http: Http[], extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: NS, resourceVersion: '4711', labels: { app: 'reviews' }, annotations: { 'argocd.argoproj.io/tracking-id': 'x' } },
    spec: { hosts: ['reviews'], gateways: ['mesh'], ...extra, http },
  };
}
const dest = (host: string, subset: string, weight?: number): Dest =>
  weight === undefined ? { destination: { host, subset } } : { destination: { host, subset }, weight };

/** bookinfo's virtual-service-reviews-test-v2.yaml: jason -> v2, everyone else -> v1. */
const bookinfoTestV2 = () =>
  vsWith([
    { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest('reviews', 'v2')] },
    { route: [dest('reviews', 'v1')] },
  ]);

function ok(r: RouteResolution): ManagedRoute[] {
  if (!r.ok) throw new Error(`expected a resolution, got ${r.reason}: ${r.message}`);
  return r.routes;
}
function failure(r: RouteResolution): { reason: string; message: string } {
  if (r.ok) throw new Error('expected the resolution to fail');
  return r;
}
/** The VS with the weights of the managed destinations removed, to compare everything else. */
function withoutWeights(vs: ReturnType<typeof vsWith>, routes: ManagedRoute[]) {
  const copy = structuredClone(vs);
  delete (copy.metadata as { resourceVersion?: string }).resourceVersion;
  for (const r of routes) {
    for (const i of [r.stableIndex, r.canaryIndex]) {
      if (i !== undefined) delete copy.spec.http[r.index]?.route?.[i]?.weight;
    }
  }
  return copy;
}

describe('hostMatches', () => {
  test.each(['reviews', 'reviews.bookinfo', 'reviews.bookinfo.svc', 'reviews.bookinfo.svc.cluster.local', 'reviews.bookinfo.svc.corp.example'])(
    '%s is the reviews service in bookinfo', (host) => {
      expect(hostMatches(host, 'reviews', NS)).toBe(true);
    });

  test.each(['ratings', 'reviews2', 'reviews.other', 'reviews.other.svc.cluster.local', 'reviews.bookinfo.svcx', 'reviews.bookinfo.cluster.local', 'REVIEWS'])(
    '%s is not', (host) => {
      expect(hostMatches(host, 'reviews', NS)).toBe(false);
    });

  test('a non-string host never matches', () => {
    expect(hostMatches(undefined, 'reviews', NS)).toBe(false);
    expect(hostMatches(42, 'reviews', NS)).toBe(false);
  });
});

describe('bookinfo reviews: a jason match route and a default route', () => {
  const vs = bookinfoTestV2();
  const t = target('v1', 'v2');

  test('the default route is the managed one', () => {
    expect(ok(resolveManagedRoutes(vs, t))).toEqual([
      { index: 1, name: undefined, stableIndex: 0, canaryIndex: undefined, stableWeight: 100, canaryWeight: 0, budget: 100, total: 100, host: 'reviews' },
    ]);
  });

  test('the lone destination without weight gets explicit weights and the canary is added with add .../route/-', () => {
    const routes = ok(resolveManagedRoutes(vs, t));
    expect(weightPatch('4711', routes, t, 10)).toEqual([
      { op: 'replace', path: '/metadata/resourceVersion', value: '4711' },
      { op: 'add', path: '/spec/http/1/route/0/weight', value: 90 },
      { op: 'add', path: '/spec/http/1/route/-', value: { destination: { host: 'reviews', subset: 'v2' }, weight: 10 } },
    ]);
  });

  test('the match route is never in the patch, at any weight', () => {
    const routes = ok(resolveManagedRoutes(vs, t));
    for (const p of [1, 10, 50, 99, 100]) {
      for (const op of weightPatch('4711', routes, t, p)) expect(op.path.startsWith('/spec/http/0')).toBe(false);
    }
  });

  test('after applying the patch the jason route and all other fields are unchanged', () => {
    const routes = ok(resolveManagedRoutes(vs, t));
    const patched = applyJsonPatch(vs, weightPatch('4711', routes, t, 10));
    expect(patched.spec.http[0]).toEqual(vs.spec.http[0]);
    expect(patched.spec.http[1]?.route).toEqual([dest('reviews', 'v1', 90), dest('reviews', 'v2', 10)]);
    const { http: _h1, ...specRest } = patched.spec;
    const { http: _h2, ...origRest } = vs.spec;
    expect(specRest).toEqual(origRest);
    expect(patched.metadata).toEqual(vs.metadata);
  });

  test('the patched VS resolves to the new weights and needs no further ops', () => {
    const routes = ok(resolveManagedRoutes(vs, t));
    const patched = applyJsonPatch(vs, weightPatch('4711', routes, t, 10));
    const again = ok(resolveManagedRoutes(patched, t));
    expect(again[0]).toMatchObject({ index: 1, stableIndex: 0, canaryIndex: 1, stableWeight: 90, canaryWeight: 10 });
    expect(routesAt(again, 10)).toBe(true);
    expect(weightPatch('4712', again, t, 10)).toEqual([]);
  });

  test('a release whose canary is the jason subset still manages the default route only', () => {
    // v1 -> v2 sends v2 traffic in both routes; the default one is chosen.
    expect(ok(resolveManagedRoutes(vs, target('v1', 'v2'))).map((r) => r.index)).toEqual([1]);
  });

  test('percent 0 on a lone stable destination is already there: no ops, canary not added', () => {
    const routes = ok(resolveManagedRoutes(vs, t));
    expect(routesAt(routes, 0)).toBe(true);
    expect(weightPatch('4711', routes, t, 0)).toEqual([]);
  });
});

describe('weightPatch only changes weights', () => {
  const vs = vsWith([
    { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest('reviews', 'v3')] },
    {
      name: 'primary',
      route: [dest('reviews', 'v1', 90), dest('reviews', 'v2', 10)],
      retries: { attempts: 3, perTryTimeout: '2s' },
      timeout: '10s',
      headers: { request: { set: { 'x-canary': 'maybe' } } },
    },
  ]);
  const t = target('v1', 'v2');

  test.each([0, 1, 33, 50, 77, 100])('at %d%% the patch is the resourceVersion guard plus weight paths only', (p) => {
    const routes = ok(resolveManagedRoutes(vs, t));
    const ops = weightPatch('4711', routes, t, p);
    expect(ops[0]).toEqual({ op: 'replace', path: '/metadata/resourceVersion', value: '4711' });
    for (const op of ops.slice(1)) expect(op.path).toMatch(/^\/spec\/http\/1\/route\/[01]\/weight$/);
    const patched = applyJsonPatch(vs, ops);
    expect(withoutWeights(patched, routes)).toEqual(withoutWeights(vs, routes));
    const want = weightsFor(routes[0] as ManagedRoute, p);
    expect(patched.spec.http[1]?.route?.map((d) => d.weight)).toEqual([want.stable, want.canary]);
  });

  test('no ops at all when the route is already at the weight', () => {
    expect(weightPatch('4711', ok(resolveManagedRoutes(vs, t)), t, 10)).toEqual([]);
  });

  test('only the weight that differs is written', () => {
    const routes: ManagedRoute[] = [{ index: 1, stableIndex: 0, canaryIndex: 1, stableWeight: 90, canaryWeight: 5, budget: 100, total: 100, host: 'reviews' }];
    expect(weightPatch('1', routes, t, 10)).toEqual([
      { op: 'replace', path: '/metadata/resourceVersion', value: '1' },
      { op: 'add', path: '/spec/http/1/route/1/weight', value: 10 },
    ]);
  });

  test('the resourceVersion guard carries the version it was given', () => {
    expect(weightPatch('999', ok(resolveManagedRoutes(vs, t)), t, 50)[0]).toEqual({ op: 'replace', path: '/metadata/resourceVersion', value: '999' });
  });
});

describe('a route that shares its traffic with another host (budget split)', () => {
  // 20% of the traffic goes to a legacy reviews in another namespace, which is another host.
  const vs = vsWith([
    {
      route: [
        dest('reviews', 'v1', 80),
        dest('reviews.legacy.svc.cluster.local', 'v1', 20),
      ],
    },
  ]);
  const t = target('v1', 'v2');

  test('the budget is what the other destinations leave', () => {
    expect(ok(resolveManagedRoutes(vs, t))[0]).toMatchObject({ budget: 80, stableIndex: 0, canaryIndex: undefined, stableWeight: 80, canaryWeight: 0 });
  });

  test('the canary percent applies to the budget and the other destination is untouched', () => {
    const routes = ok(resolveManagedRoutes(vs, t));
    const patched = applyJsonPatch(vs, weightPatch('4711', routes, t, 50));
    expect(patched.spec.http[0]?.route).toEqual([
      dest('reviews', 'v1', 40),
      dest('reviews.legacy.svc.cluster.local', 'v1', 20),
      dest('reviews', 'v2', 40),
    ]);
    const after = ok(resolveManagedRoutes(patched, t));
    expect(routesAt(after, 50)).toBe(true);
  });

  test('weights are rounded within the budget and always sum to it', () => {
    const r = ok(resolveManagedRoutes(vs, t))[0] as ManagedRoute;
    for (let p = 0; p <= 100; p++) {
      const w = weightsFor(r, p);
      expect(w.stable + w.canary).toBe(80);
    }
    expect(weightsFor(r, 10)).toEqual({ stable: 72, canary: 8 });
  });

  test('the same subset name on another host is not the release', () => {
    const vs2 = vsWith([{ route: [dest('ratings', 'v2', 100)] }]);
    expect(failure(resolveManagedRoutes(vs2, t)).reason).toBe(Reason.RouteNotFound);
  });
});

describe('NoTrafficBudget', () => {
  test('when other destinations take 100, there is nothing to shift', () => {
    const vs = vsWith([{ name: 'primary', route: [dest('reviews', 'v1', 0), dest('reviews-legacy', 'v1', 100)] }]);
    const f = failure(resolveManagedRoutes(vs, target()));
    expect(f.reason).toBe(Reason.NoTrafficBudget);
    expect(f.message).toContain('"primary"');
  });
});

describe('several hosts in one VirtualService', () => {
  const vs = {
    ...vsWith([
      { name: 'ratings', match: [{ uri: { prefix: '/ratings' } }], route: [dest('ratings', 'v1', 100)] },
      { name: 'reviews', route: [dest('reviews', 'v1', 100), dest('reviews', 'v2', 0)] },
      { name: 'details', route: [dest('details', 'v1')] },
    ]),
  };
  vs.spec.hosts = ['reviews', 'ratings', 'details'];

  test("the release's service picks its own route", () => {
    expect(ok(resolveManagedRoutes(vs, target())).map((r) => r.index)).toEqual([1]);
  });

  test('another release on the same VS picks the route of its service', () => {
    const ratings: ReleaseTarget = { namespace: NS, service: 'ratings', stableSubset: 'v1', canarySubset: 'v2' };
    const routes = ok(resolveManagedRoutes(vs, ratings));
    expect(routes.map((r) => r.index)).toEqual([0]);
    const ops = weightPatch('4711', routes, ratings, 20);
    expect(ops.slice(1).every((o) => o.path.startsWith('/spec/http/0/'))).toBe(true);
  });
});

describe('host spellings', () => {
  test.each(['reviews', 'reviews.bookinfo', 'reviews.bookinfo.svc', 'reviews.bookinfo.svc.cluster.local'])(
    '%s is recognised and kept when the canary destination is added', (host) => {
      const vs = vsWith([{ route: [dest(host, 'v1')] }]);
      const routes = ok(resolveManagedRoutes(vs, target()));
      expect(routes[0]).toMatchObject({ host, stableIndex: 0, stableWeight: 100 });
      const add = weightPatch('1', routes, target(), 25).find((o) => o.path.endsWith('/-'));
      expect(add?.value).toEqual({ destination: { host, subset: 'v2' }, weight: 25 });
    });

  test('stable and canary may use different spellings of the same host', () => {
    const vs = vsWith([{ route: [dest('reviews', 'v1', 70), dest('reviews.bookinfo.svc.cluster.local', 'v2', 30)] }]);
    expect(ok(resolveManagedRoutes(vs, target()))[0]).toMatchObject({ stableIndex: 0, canaryIndex: 1, stableWeight: 70, canaryWeight: 30, budget: 100 });
  });

  test('a route with only the canary destination adds the stable one with the canary host spelling', () => {
    const vs = vsWith([{ route: [dest('reviews.bookinfo.svc.cluster.local', 'v2')] }]);
    const routes = ok(resolveManagedRoutes(vs, target()));
    expect(routes[0]).toMatchObject({ stableIndex: undefined, canaryIndex: 0, canaryWeight: 100, stableWeight: 0 });
    const patched = applyJsonPatch(vs, weightPatch('1', routes, target(), 10));
    expect(patched.spec.http[0]?.route).toEqual([
      dest('reviews.bookinfo.svc.cluster.local', 'v2', 10),
      dest('reviews.bookinfo.svc.cluster.local', 'v1', 90),
    ]);
  });
});

describe('named routes (spec.virtualService.routes)', () => {
  const vs = vsWith([
    { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest('reviews', 'v1')] },
    { name: 'mobile', match: [{ headers: { 'user-agent': { regex: '.*Mobile.*' } } }], route: [dest('reviews', 'v1', 100)] },
    { name: 'primary', route: [dest('reviews', 'v1', 100)] },
    { name: 'static', route: [dest('static', 'v1')] },
  ]);

  test('a named route is chosen even when it has a match block', () => {
    expect(ok(resolveManagedRoutes(vs, target('v1', 'v2', ['mobile']))).map((r) => [r.index, r.name])).toEqual([[1, 'mobile']]);
  });

  test('several named routes are all managed, in the order named, and all patched', () => {
    const t = target('v1', 'v2', ['primary', 'jason']);
    const routes = ok(resolveManagedRoutes(vs, t));
    expect(routes.map((r) => r.index)).toEqual([2, 0]);
    const patched = applyJsonPatch(vs, weightPatch('1', routes, t, 50));
    expect(patched.spec.http[2]?.route).toEqual([dest('reviews', 'v1', 50), dest('reviews', 'v2', 50)]);
    expect(patched.spec.http[0]?.route).toEqual([dest('reviews', 'v1', 50), dest('reviews', 'v2', 50)]);
    expect(patched.spec.http[1]).toEqual(vs.spec.http[1]);
    expect(routesAt(ok(resolveManagedRoutes(patched, t)), 50)).toBe(true);
  });

  test('a name that is not in the VS is RouteNotFound naming it', () => {
    const f = failure(resolveManagedRoutes(vs, target('v1', 'v2', ['primary', 'desktop'])));
    expect(f.reason).toBe(Reason.RouteNotFound);
    expect(f.message).toContain('"desktop"');
    expect(f.message).toContain('spec.virtualService.routes');
  });

  test('a named route without the release subsets is RouteNotFound naming it', () => {
    const f = failure(resolveManagedRoutes(vs, target('v1', 'v2', ['static'])));
    expect(f.reason).toBe(Reason.RouteNotFound);
    expect(f.message).toContain('route "static" has no destination reviews with subset v1 or v2');
  });

  test('an empty routeNames list falls back to finding the route', () => {
    expect(ok(resolveManagedRoutes(vs, target('v1', 'v2', []))).map((r) => r.index)).toEqual([2]);
  });
});

describe('finding the route without names', () => {
  test('several match routes and no default route is RouteAmbiguous naming them', () => {
    const vs = vsWith([
      { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest('reviews', 'v1')] },
      { match: [{ uri: { prefix: '/beta' } }], route: [dest('reviews', 'v2')] },
      { name: 'other', route: [dest('ratings', 'v1')] },
    ]);
    const f = failure(resolveManagedRoutes(vs, target()));
    expect(f.reason).toBe(Reason.RouteAmbiguous);
    expect(f.message).toContain('"jason", #1');
    expect(f.message).toContain('spec.virtualService.routes');
  });

  test('several default routes are RouteAmbiguous naming only the default ones', () => {
    const vs = vsWith([
      { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest('reviews', 'v1')] },
      { name: 'a', route: [dest('reviews', 'v1')] },
      { name: 'b', route: [dest('reviews', 'v1')] },
    ]);
    const f = failure(resolveManagedRoutes(vs, target()));
    expect(f.reason).toBe(Reason.RouteAmbiguous);
    expect(f.message).toContain('("a", "b")');
  });

  test('one match route alone is managed', () => {
    const vs = vsWith([
      { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest('reviews', 'v1')] },
      { route: [dest('reviews', 'v3')] },
    ]);
    expect(ok(resolveManagedRoutes(vs, target())).map((r) => r.index)).toEqual([0]);
  });

  test('no route to the subsets is RouteNotFound telling what to add', () => {
    const f = failure(resolveManagedRoutes(vsWith([{ route: [dest('reviews', 'v3')] }]), target()));
    expect(f.reason).toBe(Reason.RouteNotFound);
    expect(f.message).toContain('{host: reviews, subset: v1}');
  });

  test.each([undefined, {}, { spec: {} }, { spec: { http: 'nope' } }, { spec: { tcp: [{ route: [dest('reviews', 'v1')] }] } }])(
    'an object without HTTP routes (%j) is RouteNotFound', (vs) => {
      expect(failure(resolveManagedRoutes(vs, target())).reason).toBe(Reason.RouteNotFound);
    });

  test('routes without a route list (redirects) are skipped', () => {
    const vs = vsWith([{ name: 'redirect', match: [{ uri: { exact: '/old' } }] }, { route: [dest('reviews', 'v1')] }]);
    expect(ok(resolveManagedRoutes(vs, target())).map((r) => r.index)).toEqual([1]);
  });
});

describe('weights helpers', () => {
  const r = (stableWeight: number, canaryWeight: number, budget = 100): ManagedRoute => ({
    index: 0, stableIndex: 0, canaryIndex: 1, stableWeight, canaryWeight, budget, total: 100, host: 'reviews',
  });


  test('weightsFor gives the whole budget to stable at 0 and to the canary at 100', () => {
    expect(weightsFor(r(0, 0, 60), 0)).toEqual({ stable: 60, canary: 0 });
    expect(weightsFor(r(0, 0, 60), 100)).toEqual({ stable: 0, canary: 60 });
  });

  test('routesAt needs every route at the weight', () => {
    expect(routesAt([r(90, 10), r(90, 10)], 10)).toBe(true);
    expect(routesAt([r(90, 10), r(50, 50)], 10)).toBe(false);
    expect(routesAt([], 10)).toBe(true);
  });
});
