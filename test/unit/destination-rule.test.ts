import { describe, expect, test } from '@jest/globals';
import { subsetsOf } from '../../src/traffic/istio/destination-rule.js';

describe('subsetsOf', () => {
  test("reads bookinfo's reviews DestinationRule subsets and labels", () => {
    const dr = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'reviews' },
      spec: {
        host: 'reviews',
        trafficPolicy: { loadBalancer: { simple: 'RANDOM' } },
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
          { name: 'v3', labels: { version: 'v3', track: 'beta' } },
        ],
      },
    };
    expect(subsetsOf(dr)).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
      { name: 'v3', labels: { version: 'v3', track: 'beta' } },
    ]);
  });

  test('a subset without labels has no labels', () => {
    expect(subsetsOf({ spec: { subsets: [{ name: 'all' }] } })).toEqual([{ name: 'all', labels: {} }]);
  });

  test('non-string label values are dropped', () => {
    expect(subsetsOf({ spec: { subsets: [{ name: 'v1', labels: { version: 'v1', weird: 1, n: null } }] } })).toEqual([{ name: 'v1', labels: { version: 'v1' } }]);
  });

  test('subsets without a string name are skipped', () => {
    expect(subsetsOf({ spec: { subsets: [{ labels: { version: 'v1' } }, null, 'v2', { name: 3 }, { name: 'ok' }] } })).toEqual([{ name: 'ok', labels: {} }]);
  });

  test.each([undefined, null, {}, { spec: {} }, { spec: { subsets: 'v1' } }])('%j has no subsets', (dr) => {
    expect(subsetsOf(dr)).toEqual([]);
  });
});
