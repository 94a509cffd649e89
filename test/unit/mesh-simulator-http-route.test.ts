import { describe, expect, test } from '@jest/globals';
import { backendRefProblem, isServiceParent, selectHttpRoute, splitHttpRoute, type HttpRouteLike } from '../../tools/mesh-simulator/http-route.js';
import { httpRoute, NS } from './fakes/mesh-cluster.js';

const route = (rules: unknown[], parentRefs: unknown[] = [{ group: '', kind: 'Service', name: 'reviews' }], name = 'reviews', created = '2024-01-01T00:00:00Z'): HttpRouteLike => ({
  metadata: { name, namespace: NS, creationTimestamp: created },
  spec: { parentRefs, rules },
});
const backend = (name: string, weight?: number) => ({ name, port: 9080, ...(weight !== undefined ? { weight } : {}) });
const shares = (r: HttpRouteLike, matchShare = 0) => {
  const s = splitHttpRoute(r, matchShare);
  return {
    to: s.destinations.map((d) => [d.ruleName ?? d.rule, d.backend.name, +d.share.toFixed(6)]),
    noBackend: +s.noBackend.toFixed(6),
    unrouted: +s.unrouted.toFixed(6),
  };
};
const jason = { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'end-user', value: 'jason' }] }] };

describe('selectHttpRoute (GAMMA parentRefs)', () => {
  test('takes a route whose parentRef is the Service: kind Service, group "" or absent, same or no namespace', () => {
    const core = route([], [{ group: '', kind: 'Service', name: 'reviews' }], 'core');
    const absentGroup = route([], [{ kind: 'Service', name: 'reviews', namespace: NS }], 'absent');
    expect(selectHttpRoute([core], NS, 'reviews')).toBe(core);
    expect(selectHttpRoute([absentGroup], NS, 'reviews')).toBe(absentGroup);
  });

  test('ignores Gateway parents, a kind Service in the Gateway API group (the schema default), other Services and namespaces', () => {
    const gateway = route([], [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'reviews' }], 'gw');
    const defaultedGroup = route([], [{ group: 'gateway.networking.k8s.io', kind: 'Service', name: 'reviews' }], 'defaulted');
    const ratings = route([], [{ group: '', kind: 'Service', name: 'ratings' }], 'ratings');
    const elsewhere = route([], [{ group: '', kind: 'Service', name: 'reviews', namespace: 'other' }], 'elsewhere');
    expect(selectHttpRoute([gateway, defaultedGroup, ratings, elsewhere], NS, 'reviews')).toBeUndefined();
    expect(isServiceParent({ kind: 'Service', name: 'reviews' }, 'reviews', NS)).toBe(true);
    expect(isServiceParent({ name: 'reviews' }, 'reviews', NS)).toBe(false);
  });

  test('picks the oldest route, then the first by name, when several attach to the Service', () => {
    const newer = route([], undefined, 'a', '2024-06-01T00:00:00Z');
    const older = route([], undefined, 'b', '2024-01-01T00:00:00Z');
    const twin = route([], undefined, 'c', '2024-01-01T00:00:00Z');
    expect(selectHttpRoute([newer, twin, older], NS, 'reviews')).toBe(older);
  });
});

describe('splitHttpRoute', () => {
  test('splits the match-all rule by backendRef weights, 90/10', () => {
    expect(shares(httpRoute([{ name: 'reviews-v1', weight: 90 }, { name: 'reviews-v2', weight: 10 }]))).toEqual({
      to: [[0, 'reviews-v1', 0.9], [0, 'reviews-v2', 0.1]],
      noBackend: 0,
      unrouted: 0,
    });
  });

  test('counts a missing weight as 1 and gives weight 0 nothing', () => {
    expect(shares(route([{ backendRefs: [backend('reviews-v1'), backend('reviews-v2', 3), backend('reviews-v3', 0)] }])).to).toEqual([
      [0, 'reviews-v1', 0.25],
      [0, 'reviews-v2', 0.75],
    ]);
  });

  test('treats no matches, empty matches and the defaulted PathPrefix / match as match-all', () => {
    for (const matches of [undefined, [], [{ path: { type: 'PathPrefix', value: '/' } }], [{}]]) {
      expect(shares(route([{ ...(matches ? { matches } : {}), backendRefs: [backend('reviews-v1')] }]), 0.5)).toEqual({ to: [[0, 'reviews-v1', 1]], noBackend: 0, unrouted: 0 });
    }
  });

  test('gives a header-match rule matchShare, whatever its position, and the match-all rule the rest', () => {
    const r = route([
      { name: 'primary', backendRefs: [backend('reviews-v1', 80), backend('reviews-v2', 20)] },
      { name: 'jason', ...jason, backendRefs: [backend('reviews-v2')] },
    ]);
    expect(shares(r, 0.1)).toEqual({ to: [['jason', 'reviews-v2', 0.1], ['primary', 'reviews-v1', 0.72], ['primary', 'reviews-v2', 0.18]], noBackend: 0, unrouted: 0 });
    expect(shares(r, 0).to).toEqual([['primary', 'reviews-v1', 0.8], ['primary', 'reviews-v2', 0.2]]);
  });

  test('answers 500 for a rule whose weights are all 0, and leaves requests no rule matches unrouted', () => {
    expect(shares(route([{ backendRefs: [backend('reviews-v1', 0)] }]))).toEqual({ to: [], noBackend: 1, unrouted: 0 });
    expect(shares(route([{ ...jason, backendRefs: [backend('reviews-v2')] }]), 0.25)).toEqual({ to: [[0, 'reviews-v2', 0.25]], noBackend: 0, unrouted: 0.75 });
    expect(shares(route([]))).toEqual({ to: [], noBackend: 0, unrouted: 1 });
  });
});

describe('backendRefProblem', () => {
  const exists = (n: string) => n === 'reviews-v1';
  test('accepts a Service of the route namespace and names what is wrong otherwise', () => {
    expect(backendRefProblem({ name: 'reviews-v1', port: 9080 }, NS, exists)).toBeUndefined();
    expect(backendRefProblem({ group: '', kind: 'Service', name: 'reviews-v9' }, NS, exists)?.reason).toBe('BackendNotFound');
    expect(backendRefProblem({ group: 'example.com', kind: 'Backend', name: 'x' }, NS, exists)?.reason).toBe('InvalidKind');
    expect(backendRefProblem({ name: 'reviews-v1', namespace: 'other' }, NS, exists)?.reason).toBe('RefNotPermitted');
  });
});
