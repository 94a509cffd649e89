import { describe, expect, test } from '@jest/globals';
import { chooseIstioVersion } from '../../src/kube/istio-version.js';

describe('chooseIstioVersion', () => {
  test('prefers v1, then v1beta1, then v1alpha3', () => {
    expect(chooseIstioVersion(['v1alpha3', 'v1beta1', 'v1'])).toBe('v1');
    expect(chooseIstioVersion(['v1alpha3', 'v1beta1'])).toBe('v1beta1');
    expect(chooseIstioVersion(['v1alpha3'])).toBe('v1alpha3');
  });

  test('honours a pinned version the cluster serves', () => {
    expect(chooseIstioVersion(['v1', 'v1alpha3'], 'v1alpha3')).toBe('v1alpha3');
  });

  test('refuses a pinned version the cluster does not serve, saying what it serves', () => {
    expect(() => chooseIstioVersion(['v1'], 'v1beta1')).toThrow(/ISTIO_API_VERSION=v1beta1.*serves networking.istio.io at: v1/);
  });

  test('says to install the Istio CRDs when none is served', () => {
    expect(() => chooseIstioVersion([])).toThrow(/install Istio's CRDs/);
  });
});
