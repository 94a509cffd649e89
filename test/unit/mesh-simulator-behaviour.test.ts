import { describe, expect, test } from '@jest/globals';
import {
  ANNOTATIONS,
  BUILTIN_BEHAVIOUR,
  parseBehaviourAnnotations,
  parseBehaviourConfigMap,
  resolveBehaviour,
  type Behaviour,
} from '../../tools/mesh-simulator/behaviour.js';
import { deriveSeed, mulberry32, standardNormal } from '../../tools/mesh-simulator/rng.js';
import { fitLogNormal, outcomeSampler, sampleLatencyMs } from '../../tools/mesh-simulator/sampling.js';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

describe('seeded rng', () => {
  test('the same seed gives the same stream, another seed another one', () => {
    const take = (seed: number) => {
      const r = mulberry32(seed);
      return Array.from({ length: 5 }, () => r.next());
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    expect(take(42).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  test('derived seeds differ per host and are stable', () => {
    expect(deriveSeed(42, 'prod/reviews')).toBe(deriveSeed(42, 'prod/reviews'));
    expect(deriveSeed(42, 'prod/reviews')).not.toBe(deriveSeed(42, 'prod/ratings'));
    expect(deriveSeed(42, 'prod/reviews')).not.toBe(deriveSeed(7, 'prod/reviews'));
  });

  test('standardNormal has mean ~0 and sd ~1', () => {
    const r = mulberry32(1);
    const xs = Array.from({ length: 20_000 }, () => standardNormal(r));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});

describe('behaviour sampling (seed 42)', () => {
  const behaviour: Behaviour = { errorRate: 0.2, errorCode: 503, latencyMs: { p50: 20, p99: 200 } };
  const N = 20_000;
  const rng = mulberry32(42);
  const sample = outcomeSampler(behaviour);
  const outcomes = Array.from({ length: N }, () => sample(rng));
  const latencies = outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);

  test('fails errorRate of the requests, with the configured code', () => {
    const errors = outcomes.filter((o) => o.code === 503).length;
    expect(outcomes.every((o) => o.code === 200 || o.code === 503)).toBe(true);
    expect(Math.abs(errors / N - 0.2)).toBeLessThan(0.015);
  });

  test('latency has the configured median and 99th percentile', () => {
    expect(quantile(latencies, 0.5)).toBeGreaterThan(20 * 0.95);
    expect(quantile(latencies, 0.5)).toBeLessThan(20 * 1.05);
    expect(quantile(latencies, 0.99)).toBeGreaterThan(200 * 0.85);
    expect(quantile(latencies, 0.99)).toBeLessThan(200 * 1.15);
    expect(latencies[0]).toBeGreaterThan(0);
  });

  test('is reproducible: the same seed gives the same outcomes', () => {
    const again = mulberry32(42);
    expect(Array.from({ length: N }, () => sample(again))).toEqual(outcomes);
  });

  test('errorRate 0 and 1 are exact; p99 <= p50 gives a constant latency', () => {
    const r = mulberry32(3);
    const never = outcomeSampler({ ...behaviour, errorRate: 0 });
    const always = outcomeSampler({ ...behaviour, errorRate: 1 });
    expect(Array.from({ length: 1000 }, () => never(r).code).every((c) => c === 200)).toBe(true);
    expect(Array.from({ length: 1000 }, () => always(r).code).every((c) => c === 503)).toBe(true);
    expect(fitLogNormal(50, 40).sigma).toBe(0);
    expect(sampleLatencyMs(fitLogNormal(50, 50), r)).toBeCloseTo(50, 9);
  });
});

describe('behaviour configuration', () => {
  test('ConfigMap: behaviour.json selectors, per-key entries override the same selector', () => {
    const { value, problems } = parseBehaviourConfigMap({
      'behaviour.json': JSON.stringify({
        '*': { latencyMs: { p50: 15, p99: 150 } },
        reviews: { errorRate: 0.01 },
        'reviews.v2': { errorRate: 0.5, latencyMs: { p99: 900 } },
      }),
      'reviews.v2': JSON.stringify({ errorCode: 503 }),
    });
    expect(problems).toEqual([]);
    expect(resolveBehaviour(BUILTIN_BEHAVIOUR, value, 'reviews', 'v1', undefined)).toEqual({ errorRate: 0.01, errorCode: 500, latencyMs: { p50: 15, p99: 150 } });
    expect(resolveBehaviour(BUILTIN_BEHAVIOUR, value, 'reviews', 'v2', undefined)).toEqual({ errorRate: 0.5, errorCode: 503, latencyMs: { p50: 15, p99: 900 } });
    expect(resolveBehaviour(BUILTIN_BEHAVIOUR, value, 'ratings', 'v1', undefined)).toEqual({ errorRate: 0, errorCode: 500, latencyMs: { p50: 15, p99: 150 } });
  });

  test('ConfigMap: bad entries are reported and skipped, good ones kept', () => {
    const { value, problems } = parseBehaviourConfigMap({
      'behaviour.json': JSON.stringify({ reviews: { errorRate: 2 }, 'reviews.v1': { latencyMs: { p50: 10 } }, 'Bad Key': {} }),
      'reviews.v3': '{not json',
      'reviews.v2': JSON.stringify({ errorRate: 0.3, typo: 1 }),
    });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/errorRate/);
    expect(problems.join('\n')).toMatch(/invalid JSON/);
    expect([...value.keys()]).toEqual(['reviews.v1']);
  });

  test('annotations override the ConfigMap; a bad annotation leaves the others in force', () => {
    const cm = parseBehaviourConfigMap({ 'reviews.v2': JSON.stringify({ errorRate: 0.5, latencyMs: { p50: 30 } }) }).value;
    const ann = parseBehaviourAnnotations({
      [ANNOTATIONS.errorRate]: '0.25',
      [ANNOTATIONS.latencyP99]: '400',
      [ANNOTATIONS.errorCode]: 'boom',
      'unrelated/annotation': 'x',
    });
    expect(ann.problems).toEqual([expect.stringContaining('error-code')]);
    expect(ann.value).toEqual({ errorRate: 0.25, latencyMs: { p99: 400 } });
    expect(resolveBehaviour(BUILTIN_BEHAVIOUR, cm, 'reviews', 'v2', ann.value)).toEqual({ errorRate: 0.25, errorCode: 500, latencyMs: { p50: 30, p99: 400 } });
    expect(parseBehaviourAnnotations({ [ANNOTATIONS.errorRate]: '1.5' }).problems).toHaveLength(1);
  });
});
