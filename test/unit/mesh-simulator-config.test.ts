import { describe, expect, test } from '@jest/globals';
import { parseCli, parseHost } from '../../tools/mesh-simulator/config.js';

describe('mesh simulator CLI', () => {
  test('parses hosts with rate and optional match share', () => {
    expect(parseHost('prod/reviews:50')).toEqual({ namespace: 'prod', service: 'reviews', rps: 50 });
    expect(parseHost('prod/reviews:12.5:0.1')).toEqual({ namespace: 'prod', service: 'reviews', rps: 12.5, matchShare: 0.1 });
    expect(() => parseHost('reviews:50')).toThrow(/NAMESPACE\/SERVICE:RPS/);
    expect(() => parseHost('prod/reviews:50:2')).toThrow(/between 0 and 1/);
  });

  test('parses flags into options', () => {
    expect(parseCli(['--host', 'prod/reviews:50', '--host', 'prod/ratings:10', '--port', '0', '--seed', '42', '--match-share', '0.1'])).toEqual({
      hosts: [
        { namespace: 'prod', service: 'reviews', rps: 50 },
        { namespace: 'prod', service: 'ratings', rps: 10 },
      ],
      port: 0,
      seed: 42,
      matchShare: 0.1,
    });
    expect(parseCli(['--help'])).toBe('help');
  });

  test('turns HTTPRoutes or their status off with --no-gateway-api and --no-route-status', () => {
    expect(parseCli(['--host', 'prod/reviews:5', '--no-route-status'])).toEqual({ hosts: [{ namespace: 'prod', service: 'reviews', rps: 5 }], routeStatus: false });
    expect(parseCli(['--host', 'prod/reviews:5', '--no-gateway-api'])).toEqual({ hosts: [{ namespace: 'prod', service: 'reviews', rps: 5 }], gatewayApi: false });
  });

  test('rejects bad input with a message', () => {
    expect(() => parseCli([])).toThrow(/at least one host/);
    expect(() => parseCli(['--host', 'prod/reviews:5', '--host', 'prod/reviews:6'])).toThrow(/given twice/);
    expect(() => parseCli(['--host', 'prod/reviews:5', '--seed', 'x'])).toThrow(/--seed/);
    expect(() => parseCli(['--host', 'prod/reviews:5', '--bogus'])).toThrow(/bogus/);
  });
});
