// The benchmark's and the property tests' draws must have the right mean and
// variance, or their false-rollback figures would measure the sampler.
import { describe, expect, test } from '@jest/globals';
import { binomial, lnGamma, poisson } from '../../../bench/judge/count-sampling.js';
import { mulberry32 } from '../../../tools/mesh-simulator/rng.js';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

describe('count sampling', () => {
  test('lnGamma matches ln((k-1)!) and ln Γ(0.5) = ln √π', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 12);
    expect(lnGamma(11)).toBeCloseTo(Math.log(3628800), 10);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(lnGamma(1001)).toBeCloseTo(5912.128178488163, 7); // ln(1000!), from Python's math.lgamma(1001)
  });

  test.each([0.02, 3, 9.9, 10, 47, 5000])('Poisson(%p) has mean and variance equal to its mean (40,000 seeded draws)', (mean) => {
    const rng = mulberry32(1234);
    const m = moments(() => poisson(rng, mean), 40_000);
    // 5 standard errors of the mean and of the variance: a fixed seed, so this cannot flake.
    expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(mean / 40_000));
    expect(Math.abs(m.variance - mean)).toBeLessThan(5 * mean * Math.sqrt((2 + 1 / mean) / 40_000));
  });

  test.each([[20, 0.01], [100, 0.3], [1000, 0.004], [1000, 0.5], [50_000, 0.02], [300, 0.97]])(
    'Binomial(%p, %p) has mean np and variance np(1-p) (40,000 seeded draws)', (n, p) => {
      const rng = mulberry32(99);
      const m = moments(() => binomial(rng, n, p), 40_000);
      const mean = n * p;
      const variance = n * p * (1 - p);
      expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / 40_000));
      expect(Math.abs(m.variance - variance)).toBeLessThan(5 * variance * Math.sqrt(2.5 / 40_000) + 1e-9);
    });

  test.each(['Poisson(47)', 'Binomial(1000, 0.5)', 'Binomial(2000, 0.03)'])(
    '%s hits each value from mean-3sd to mean+3sd as often as its probability (60,000 seeded draws)', (name) => {
      const rng = mulberry32(2024);
      const n = 60_000;
      const spec = name === 'Poisson(47)' ? { draw: () => poisson(rng, 47), lnPmf: (k: number) => -47 + k * Math.log(47) - lnGamma(k + 1), mean: 47, sd: Math.sqrt(47) }
        : name === 'Binomial(1000, 0.5)' ? binomialSpec(rng, 1000, 0.5) : binomialSpec(rng, 2000, 0.03);
      const seen = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const k = spec.draw();
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      for (let k = Math.ceil(spec.mean - 3 * spec.sd); k <= spec.mean + 3 * spec.sd; k++) {
        const p = Math.exp(spec.lnPmf(k));
        expect(Math.abs((seen.get(k) ?? 0) / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
      }
    });

  test('draws stay within their support', () => {
    const rng = mulberry32(7);
    for (let i = 0; i < 5000; i++) {
      const k = binomial(rng, 40, 0.45);
      expect(k >= 0 && k <= 40 && Number.isInteger(k)).toBe(true);
      expect(Number.isInteger(poisson(rng, 25)) && poisson(rng, 25) >= 0).toBe(true);
    }
  });
});

function binomialSpec(rng: ReturnType<typeof mulberry32>, n: number, p: number) {
  return {
    draw: () => binomial(rng, n, p),
    lnPmf: (k: number) => lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log(1 - p),
    mean: n * p,
    sd: Math.sqrt(n * p * (1 - p)),
  };
}
