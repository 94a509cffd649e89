// The HTTPRoute edit on real-world shapes: only the managed backendRefs'
// weights change (and a canary backendRef is added once), everything else in
// the object stays byte for byte.
import { describe, expect, test } from '@jest/globals';
import { Reason } from '../../../src/api/conditions.js';
import {
  parentServices, resolveManagedRules, routeApplied, ruleView, ruleWeightPatch, type HttpRouteTarget, type ManagedRule,
} from '../../../src/traffic/gateway-api/http-route.js';
import { applyJsonPatch } from '../release-fixtures.js';

const NS = 'prod';
const T: HttpRouteTarget = { namespace: NS, stableService: 'reviews-v1', canaryService: 'reviews-v2' };
type Backend = { group?: string; kind?: string; name: string; namespace?: string; port?: number; weight?: number };
type Rule = { name?: string; matches?: unknown[]; filters?: unknown[]; backendRefs?: Backend[]; timeouts?: unknown };

function route(rules: Rule[], extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
    metadata: { name: 'reviews', namespace: NS, resourceVersion: '41', generation: 3, uid: 'u-1', labels: { app: 'reviews' }, annotations: { 'argocd.argoproj.io/tracking-id': 'x' } },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], rules },
    ...extra,
  };
}
const ok = (r: ReturnType<typeof resolveManagedRules>): ManagedRule[] => {
  if (!r.ok) throw new Error(r.message);
  return r.rules;
};
const patched = (obj: ReturnType<typeof route>, percent: number, t = T) => applyJsonPatch(obj, ruleWeightPatch(obj.metadata.resourceVersion, ok(resolveManagedRules(obj, t)), t, percent));
const weights = (obj: { spec: { rules: Rule[] } }, i: number) => Object.fromEntries((obj.spec.rules[i]?.backendRefs ?? []).map((b) => [b.name, b.weight]));

/** Everything but the managed rule's backendRefs, to compare byte for byte. */
function untouched(obj: ReturnType<typeof route>, managed: number) {
  const copy = structuredClone(obj) as ReturnType<typeof route>;
  delete (copy.spec.rules[managed] as Rule).backendRefs;
  copy.metadata.resourceVersion = '*';
  return JSON.stringify(copy);
}

describe('finding the managed rule', () => {
  test('a single rule with the stable backend alone (weight absent: 1) is at 0%, and 10% adds the canary as a copy of stable', () => {
    const obj = route([{ backendRefs: [{ name: 'reviews-v1', port: 9080 }] }]);
    const rules = ok(resolveManagedRules(obj, T));
    expect(ruleView(rules, T, obj).isAt(0)).toBe(true);
    const after = patched(obj, 10);
    expect(after.spec.rules[0]?.backendRefs).toEqual([{ name: 'reviews-v1', port: 9080, weight: 90 }, { name: 'reviews-v2', port: 9080, weight: 10 }]);
    expect(untouched(after, 0)).toBe(untouched(obj, 0));
    expect(ruleView(ok(resolveManagedRules(after, T)), T, after).isAt(10)).toBe(true);
  });

  test('a header rule for a test user and a default rule: the default one is managed, the header rule untouched', () => {
    const jason = { matches: [{ headers: [{ name: 'end-user', value: 'jason' }] }], backendRefs: [{ name: 'reviews-v2', port: 9080 }] };
    const dflt = { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 100 }] };
    const obj = route([jason, dflt]);
    expect(ok(resolveManagedRules(obj, T)).map((r) => r.index)).toEqual([1]);
    const after = patched(obj, 50);
    expect(weights(after, 1)).toEqual({ 'reviews-v1': 50, 'reviews-v2': 50 });
    expect(after.spec.rules[0]).toEqual(jason);
  });

  test('several rules with filters and matches, none matching everything: the release must name one', () => {
    const a = { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x', value: 'y' }] } }], backendRefs: [{ name: 'reviews-v1', port: 9080 }] };
    const b = { matches: [{ path: { type: 'PathPrefix', value: '/static' } }], backendRefs: [{ name: 'reviews-v1', port: 9080 }] };
    const r = resolveManagedRules(route([a, b]), T);
    expect(r).toEqual({ ok: false, reason: Reason.RouteAmbiguous, message: expect.stringContaining('name the one(s) to manage in spec.httpRoute.rules') });
    const named = { ...T, ruleNames: ['api'] };
    const obj = route([{ ...a, name: 'api' }, { ...b, name: 'static' }]);
    const after = patched(obj, 20, named);
    expect(weights(after, 0)).toEqual({ 'reviews-v1': 80, 'reviews-v2': 20 });
    expect(after.spec.rules[0]?.filters).toEqual(a.filters);
    expect(after.spec.rules[1]).toEqual(obj.spec.rules[1]);
  });

  test('a named rule that does not exist or has neither backend is refused, naming spec.httpRoute.rules', () => {
    const obj = route([{ name: 'primary', backendRefs: [{ name: 'ratings', port: 9080 }] }]);
    expect(resolveManagedRules(obj, { ...T, ruleNames: ['nope'] })).toMatchObject({ ok: false, reason: Reason.RouteNotFound, message: expect.stringContaining('no rule named "nope"') });
    expect(resolveManagedRules(obj, { ...T, ruleNames: ['primary'] })).toMatchObject({ ok: false, message: expect.stringContaining('has no backendRef to Service reviews-v1 or reviews-v2') });
    expect(resolveManagedRules(obj, T)).toMatchObject({ ok: false, reason: Reason.RouteNotFound, message: expect.stringContaining('add {name: reviews-v1, port: <port>}') });
  });
});

describe('other backends keep their share', () => {
  test('an extra backend with weight 20 beside stable 80: the pair splits its 80, the extra keeps 20', () => {
    const obj = route([{ backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 80 }, { name: 'legacy', port: 8080, weight: 20 }] }]);
    const after = patched(obj, 25);
    expect(weights(after, 0)).toEqual({ 'reviews-v1': 60, legacy: 20, 'reviews-v2': 20 });
    const back = patched(after, 0);
    expect(weights(back, 0)).toEqual({ 'reviews-v1': 80, legacy: 20, 'reviews-v2': 0 });
    expect(ruleView(ok(resolveManagedRules(back, T)), T, back).isAt(0)).toBe(true);
  });

  test('backends of another kind, group or namespace are never taken for the release\'s Services', () => {
    const obj = route([{ backendRefs: [
      { name: 'reviews-v1', port: 9080, weight: 100 },
      { group: 'example.com', kind: 'Bucket', name: 'reviews-v2', weight: 0 },
      { name: 'reviews-v2', namespace: 'other', port: 9080, weight: 0 },
    ] }]);
    const after = patched(obj, 10);
    expect(after.spec.rules[0]?.backendRefs).toEqual([
      { name: 'reviews-v1', port: 9080, weight: 90 },
      { group: 'example.com', kind: 'Bucket', name: 'reviews-v2', weight: 0 },
      { name: 'reviews-v2', namespace: 'other', port: 9080, weight: 0 },
      { name: 'reviews-v2', port: 9080, weight: 10 },
    ]);
  });

  test('the pair with weight 0 beside other backends has no share to shift', () => {
    const obj = route([{ backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 0 }, { name: 'legacy', port: 8080, weight: 5 }] }]);
    expect(resolveManagedRules(obj, T)).toMatchObject({ ok: false, reason: Reason.NoTrafficBudget });
  });

  test('explicit group "" and kind Service match; ports are kept as they are', () => {
    const obj = route([{ backendRefs: [{ group: '', kind: 'Service', name: 'reviews-v1', port: 9080, weight: 100 }] }]);
    const after = patched(obj, 10);
    expect(after.spec.rules[0]?.backendRefs).toEqual([
      { group: '', kind: 'Service', name: 'reviews-v1', port: 9080, weight: 90 },
      { group: '', kind: 'Service', name: 'reviews-v2', port: 9080, weight: 10 },
    ]);
  });
});

describe('the patch', () => {
  test('is guarded by resourceVersion, sets single weights, and is empty when the rule is already there', () => {
    const obj = route([{ backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 90 }, { name: 'reviews-v2', port: 9080, weight: 10 }] }]);
    const rules = ok(resolveManagedRules(obj, T));
    expect(ruleWeightPatch('41', rules, T, 10)).toEqual([]);
    expect(ruleWeightPatch('41', rules, T, 50)).toEqual([
      { op: 'replace', path: '/metadata/resourceVersion', value: '41' },
      { op: 'add', path: '/spec/rules/0/backendRefs/0/weight', value: 50 },
      { op: 'add', path: '/spec/rules/0/backendRefs/1/weight', value: 50 },
    ]);
  });

  test('relative weights are read as shares: 9/1 is 10%, 1/1 is 50%', () => {
    const at = (s: number, c: number) => {
      const obj = route([{ backendRefs: [{ name: 'reviews-v1', port: 9080, weight: s }, { name: 'reviews-v2', port: 9080, weight: c }] }]);
      const v = ruleView(ok(resolveManagedRules(obj, T)), T, obj);
      return { p: v.canaryPercent, at10: v.isAt(10), at50: v.isAt(50) };
    };
    expect(at(9, 1)).toEqual({ p: 10, at10: true, at50: false });
    expect(at(1, 1)).toEqual({ p: 50, at10: false, at50: true });
  });

  test('a rule shared by several parents (a Service and a Gateway) is edited once; other parentRefs untouched', () => {
    const obj = route([{ backendRefs: [{ name: 'reviews-v1', port: 9080 }] }]);
    obj.spec.parentRefs = [...obj.spec.parentRefs, { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' } as never];
    const after = patched(obj, 10);
    expect(after.spec.parentRefs).toEqual(obj.spec.parentRefs);
    expect(parentServices(after)).toEqual(['reviews']);
  });
});

describe('whether the mesh took the route', () => {
  const parent = { group: '', kind: 'Service', name: 'reviews', port: 9080 };
  const status = (conds: { type: string; status: string; observedGeneration: number; reason?: string }[]) =>
    ({ status: { parents: [{ parentRef: parent, controllerName: 'istio.io/gateway-controller', conditions: conds }] } });

  test('accepted with resolved refs for this generation', () => {
    const obj = route([], status([{ type: 'Accepted', status: 'True', observedGeneration: 3 }, { type: 'ResolvedRefs', status: 'True', observedGeneration: 3 }]));
    expect(routeApplied(obj)).toEqual({ ok: true, message: 'accepted for generation 3' });
  });

  test('not yet for a newer generation, nor without any status, nor with a false condition (its reason said)', () => {
    expect(routeApplied(route([], status([{ type: 'Accepted', status: 'True', observedGeneration: 2 }, { type: 'ResolvedRefs', status: 'True', observedGeneration: 2 }]))))
      .toEqual({ ok: false, message: 'waiting for the mesh to report Accepted for generation 3 on parent Service reviews' });
    expect(routeApplied(route([])).message).toContain('no mesh controller has reported on parent Service reviews');
    expect(routeApplied(route([], status([{ type: 'Accepted', status: 'True', observedGeneration: 3 }, { type: 'ResolvedRefs', status: 'False', observedGeneration: 3, reason: 'BackendNotFound' }]))))
      .toEqual({ ok: false, message: 'the mesh reports ResolvedRefs=False on parent Service reviews (BackendNotFound)' });
  });

  test('a route without a Service parent is never applied, and says what GAMMA needs', () => {
    const obj = route([]);
    obj.spec.parentRefs = [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' } as never];
    expect(routeApplied(obj).message).toContain('no Service in spec.parentRefs');
  });
});
