// spec.analysis.gates[].sequential and spec.analysis.falseRollbackRate: every
// value has a bound, and a bad one is refused with an error naming its field.
import { describe, expect, test } from '@jest/globals';
import { validateSpec } from '../../../src/api/validate.js';
import { resolveAnalysis } from '../../../src/core/plan.js';
import { baseSpec } from '../release-fixtures.js';
import { PROM } from './analysis-fixtures.js';

const validate = (gates: unknown[], extra: Record<string, unknown> = {}) => validateSpec({ ...baseSpec(), analysis: { prometheus: { address: PROM }, gates, ...extra } });
const problemsOf = (gates: unknown[], extra: Record<string, unknown> = {}) => {
  const v = validate(gates, extra);
  return v.ok ? [] : v.problems;
};
const seq = (sequential: unknown) => ({ name: 'seq', sequential });

describe('a sequential gate in the spec', () => {
  test('an errorRate and a latency sequential gate with every field set are valid', () => {
    expect(problemsOf([
      seq({ errorRate: { maxRatioOverStable: 1.5 }, minRequests: 20, falseRollbackRate: '0.5%' }),
      { name: 'p99', sequential: { latency: { percentile: 99, maxRatioOverStable: 1.2, boundaryMs: 250 } } },
    ], { falseRollbackRate: '2%' })).toEqual([]);
  });

  test('the smallest form is valid: the ratio, minRequests and the false-rollback bound have defaults', () => {
    expect(problemsOf([seq({ errorRate: {} })])).toEqual([]);
  });

  test('needs exactly one of errorRate or latency', () => {
    expect(problemsOf([seq({})])).toEqual([{ field: 'spec.analysis.gates[0].sequential', problem: 'must have exactly one of errorRate or latency (has none)' }]);
    expect(problemsOf([seq({ errorRate: {}, latency: { percentile: 99 } })]))
      .toEqual([{ field: 'spec.analysis.gates[0].sequential', problem: 'must have exactly one of errorRate or latency (has errorRate, latency)' }]);
  });

  test('is one kind of gate: not beside errorRate, latency or query on the same gate', () => {
    expect(problemsOf([{ name: 'both', errorRate: { max: '1%' }, sequential: { errorRate: {} } }]))
      .toEqual([{ field: 'spec.analysis.gates[0]', problem: 'must have exactly one of errorRate, latency, query or sequential (has errorRate, sequential)' }]);
  });

  test('max and min belong to query gates only', () => {
    expect(problemsOf([{ name: 's', sequential: { errorRate: {} }, max: 3 }])).toEqual([{ field: 'spec.analysis.gates[0].max', problem: 'only applies to a query gate' }]);
  });

  test.each([
    ['errorRate.maxRatioOverStable', { errorRate: { maxRatioOverStable: 0.9 } }, 'must be at least 1 (as bad as stable)'],
    ['errorRate.maxRatioOverStable', { errorRate: { maxRatioOverStable: 101 } }, 'must be at most 100'],
    ['errorRate.maxRatioOverStable', { errorRate: { maxRatioOverStable: '1.2' } }, 'must be a number (a multiple of stable\'s rate, e.g. 1.2)'],
    ['latency.percentile', { latency: { percentile: 40 } }, 'must be at least 50'],
    ['latency.percentile', { latency: { percentile: 99.999 } }, 'must be at most 99.99'],
    ['latency.percentile', { latency: {} }, 'is required'],
    ['latency.maxRatioOverStable', { latency: { percentile: 99, maxRatioOverStable: 0 } }, 'must be at least 1 (as bad as stable)'],
    ['latency.boundaryMs', { latency: { percentile: 99, boundaryMs: 0 } }, 'must be greater than 0'],
    ['latency.boundaryMs', { latency: { percentile: 99, boundaryMs: 3_600_001 } }, 'must be at most 3600000 (one hour)'],
    ['minRequests', { errorRate: {}, minRequests: -1 }, 'must be at least 0'],
    ['minRequests', { errorRate: {}, minRequests: 1_000_001 }, 'must be at most 1000000'],
    ['minRequests', { errorRate: {}, minRequests: 2.5 }, 'must be a whole number'],
    ['falseRollbackRate', { errorRate: {}, falseRollbackRate: '20%' }, 'must be between 0.01% and 10%'],
    ['falseRollbackRate', { errorRate: {}, falseRollbackRate: '0%' }, 'must be between 0.01% and 10%'],
    ['falseRollbackRate', { errorRate: {}, falseRollbackRate: 0.01 }, 'must be a percentage string such as "1%" or "0.5%"'],
  ])('refuses sequential.%s out of bounds, naming the field', (field, sequential, problem) => {
    expect(problemsOf([seq(sequential)])).toEqual([{ field: `spec.analysis.gates[0].sequential.${field}`, problem }]);
  });

  test('refuses spec.analysis.falseRollbackRate out of bounds, naming the field', () => {
    expect(problemsOf([seq({ errorRate: {} })], { falseRollbackRate: '11%' }))
      .toEqual([{ field: 'spec.analysis.falseRollbackRate', problem: 'must be between 0.01% and 10%' }]);
    expect(problemsOf([seq({ errorRate: {} })], { falseRollbackRate: '1' }))
      .toEqual([{ field: 'spec.analysis.falseRollbackRate', problem: 'must be a percentage string such as "1%" or "0.5%"' }]);
  });
});

describe('the resolved plan of sequential gates', () => {
  const planOf = (gates: unknown[], extra: Record<string, unknown> = {}) => {
    const v = validate(gates, extra);
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    return resolveAnalysis(v.spec.analysis)?.sequential ?? [];
  };

  test('defaults: 1.2x stable, minRequests 25 (not spec.analysis.minRequests, which is per window), the whole 1% false-rollback bound for a lone gate', () => {
    expect(planOf([seq({ errorRate: {} })])).toEqual([
      expect.objectContaining({ name: 'seq', kind: 'errors', maxRatio: 1.2, minRequests: 25, falseRollbackRate: 0.01 }),
    ]);
    expect(planOf([seq({ errorRate: {} })], { minRequests: 10 })[0]?.minRequests).toBe(25);
    expect(planOf([seq({ errorRate: {}, minRequests: 10 })])[0]?.minRequests).toBe(10);
  });

  test('gates without their own falseRollbackRate share the release\'s bound equally; a gate with its own keeps it', () => {
    const gates = planOf([
      { name: 'a', sequential: { errorRate: {} } },
      { name: 'b', sequential: { latency: { percentile: 99 } } },
      { name: 'c', sequential: { errorRate: { maxRatioOverStable: 2 }, falseRollbackRate: '0.1%' } },
    ], { falseRollbackRate: '2%' });
    expect(gates.map((g) => [g.name, g.falseRollbackRate])).toEqual([['a', 0.01], ['b', 0.01], ['c', 0.001]]);
  });

  test('a latency gate counts requests slower than a boundary: the spec\'s, or chosen later from stable', () => {
    const [fixed, chosen] = planOf([
      { name: 'fixed', sequential: { latency: { percentile: 99, boundaryMs: 250 } } },
      { name: 'chosen', sequential: { latency: { percentile: 95, maxRatioOverStable: 1.5 } } },
    ]);
    expect(fixed).toMatchObject({ kind: 'slow', percentile: 99, boundaryMs: 250, maxRatio: 1.2 });
    expect(chosen).toMatchObject({ kind: 'slow', percentile: 95, maxRatio: 1.5 });
    expect(chosen?.boundaryMs).toBeUndefined();
  });
});
