// spec.analysis.prometheus.address against the operator's allowlist: what a
// release may make the operator fetch.
import { describe, expect, test } from '@jest/globals';
import { addressAllowedBy, prometheusAddressProblem } from '../../src/api/prometheus-address.js';
import { validateSpec } from '../../src/api/validate.js';
import { loadConfig } from '../../src/config.js';

const DEFAULT = 'http://prometheus.istio-system:9090';

describe('the allowlist match rule', () => {
  test.each([
    ['http://prometheus.istio-system:9090', DEFAULT],
    ['http://prometheus.istio-system:9090/', DEFAULT],
    ['HTTP://Prometheus.Istio-System:9090', DEFAULT],
    ['http://prom:80', 'http://prom'],
    ['https://prom', 'https://prom:443/'],
    ['http://thanos/tenant-a', 'http://thanos/tenant-a/'],
    ['http://thanos/tenant-a/sub', 'http://thanos/tenant-a'],
    ['http://thanos/anything', 'http://thanos/'],
  ])('%s is allowed by %s', (address, allowed) => {
    expect(addressAllowedBy(address, allowed)).toBe(true);
  });

  test.each([
    ['https://prometheus.istio-system:9090', DEFAULT, 'another scheme'],
    ['http://prometheus.istio-system:9091', DEFAULT, 'another port'],
    ['http://prometheus.istio-system', DEFAULT, 'the default port is not 9090'],
    ['http://prometheus.istio-system.evil.example:9090', DEFAULT, 'a longer host'],
    ['http://prometheus.istio-system:9090@evil.example', DEFAULT, 'userinfo'],
    ['http://evil.example#@prometheus.istio-system:9090', DEFAULT, 'a fragment'],
    ['http://thanos/tenant-ab', 'http://thanos/tenant-a', 'a longer segment'],
    ['http://thanos/tenant-a/../tenant-b', 'http://thanos/tenant-a', 'a dot segment'],
    ['http://thanos/tenant-a/%2e%2e/tenant-b', 'http://thanos/tenant-a', 'an encoded dot segment'],
    ['http://thanos/tenant-a%2f..%2ftenant-b', 'http://thanos/tenant-a', 'an encoded slash'],
    ['http://thanos', 'http://thanos/tenant-a', 'above the allowed path'],
    ['http://kubernetes.default.svc:443', DEFAULT, 'another host'],
  ])('%s is not allowed by %s (%s)', (address, allowed) => {
    expect(addressAllowedBy(address, allowed)).toBe(false);
  });
});

describe('prometheusAddressProblem', () => {
  test('an address outside the list is refused with the setting named and what to do', () => {
    expect(prometheusAddressProblem('http://metadata.internal/', [DEFAULT])).toBe(
      `"http://metadata.internal/" is not in the operator's allowed Prometheus addresses (PROMETHEUS_ALLOWED_ADDRESSES); ask the cluster admin to add it, or remove the field to use the default`,
    );
  });

  test.each([
    ['file:///etc/passwd', 'must be an http:// or https:// URL (not file:)'],
    ['gopher://127.0.0.1:6379/_FLUSHALL', 'must be an http:// or https:// URL (not gopher:)'],
    ['ftp://prometheus:9090', 'must be an http:// or https:// URL (not ftp:)'],
    ['http://user:secret@prometheus:9090', 'must not contain a user name or password'],
    ['http://prometheus:9090/?x=1', 'must not have a query string or fragment'],
    ['http://prometheus:9090/#x', 'must not have a query string or fragment'],
    ['http://prometheus:9090/a%20b', 'must not contain percent-encoded characters in its path'],
  ])('%s is refused even without a list: %s', (address, problem) => {
    expect(prometheusAddressProblem(address, undefined)).toBe(problem);
  });

  test('no list given: any http(s) address passes (the operator always gives one)', () => {
    expect(prometheusAddressProblem('http://anything:9090', undefined)).toBeUndefined();
  });
});

describe('validateSpec with the allowlist', () => {
  const spec = (address?: string) => ({
    service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
    stable: { subset: 'v1' }, canary: { subset: 'v2' },
    analysis: { ...(address ? { prometheus: { address } } : {}), gates: [{ name: 'errors', errorRate: { max: '1%' } }] },
  });
  const ctx = { defaultPrometheusAddress: DEFAULT, allowedPrometheusAddresses: [DEFAULT] };

  test('a release naming another address is an invalid spec naming the field', () => {
    const v = validateSpec(spec('http://10.0.0.1:8080'), ctx);
    expect(v).toEqual({
      ok: false,
      problems: [{
        field: 'spec.analysis.prometheus.address',
        problem: `"http://10.0.0.1:8080" is not in the operator's allowed Prometheus addresses (PROMETHEUS_ALLOWED_ADDRESSES); ask the cluster admin to add it, or remove the field to use the default`,
      }],
    });
  });

  test('the default address, named or not, is valid', () => {
    expect(validateSpec(spec(), ctx).ok).toBe(true);
    expect(validateSpec(spec(`${DEFAULT}/`), ctx).ok).toBe(true);
  });

  test('file: is refused (the CRD schema accepts any URL)', () => {
    const v = validateSpec(spec('file:///var/run/secrets/kubernetes.io/serviceaccount/token'), {});
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.problems[0]).toEqual({ field: 'spec.analysis.prometheus.address', problem: 'must be an http:// or https:// URL (not file:)' });
  });
});

describe('PROMETHEUS_ALLOWED_ADDRESSES', () => {
  test('unset: only PROMETHEUS_ADDRESS', () => {
    expect(loadConfig({ PROMETHEUS_ADDRESS: DEFAULT }).allowedPrometheusAddresses).toEqual([DEFAULT]);
    expect(loadConfig({}).allowedPrometheusAddresses).toEqual([]);
  });

  test('set: the listed addresses plus PROMETHEUS_ADDRESS', () => {
    const c = loadConfig({ PROMETHEUS_ADDRESS: DEFAULT, PROMETHEUS_ALLOWED_ADDRESSES: ' http://thanos.monitoring:9090/tenant-a , https://prom.example ' });
    expect(c.allowedPrometheusAddresses).toEqual(['http://thanos.monitoring:9090/tenant-a', 'https://prom.example', DEFAULT]);
  });

  test('an entry that is not a plain http(s) base URL stops the operator at start, naming it', () => {
    expect(() => loadConfig({ PROMETHEUS_ALLOWED_ADDRESSES: 'http://ok:9090,file:///etc' })).toThrow(
      'invalid configuration: PROMETHEUS_ALLOWED_ADDRESSES: "file:///etc" must be an http:// or https:// URL (not file:)',
    );
  });

  test('PROMETHEUS_ADDRESS must be http or https', () => {
    expect(() => loadConfig({ PROMETHEUS_ADDRESS: 'gopher://x:70' })).toThrow('PROMETHEUS_ADDRESS: must be an http:// or https:// URL');
  });
});
