import { describe, expect, test } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import type { Gate } from '../../../src/api/analysis-spec.js';
import { GateVerdict, type GateResult } from '../../../src/api/analysis-status.js';
import { evaluateGates, roundVerdict, thresholdOf } from '../../../src/analysis/evaluate-gates.js';
import { SUBSETS, analysisPlan, analysisSpec, failed, measured, ok, type MeasureOptions } from './analysis-fixtures.js';

const ERRORS: Gate = { name: 'errors', errorRate: { max: '1%' } };
const P99: Gate = { name: 'p99', latency: { percentile: 99, maxMs: 500 } };

/** The one result of evaluating a single gate. */
function one(gate: Gate, m: MeasureOptions = {}, extra: Parameters<typeof analysisSpec>[1] = {}): GateResult {
  const [r] = evaluateGates(analysisPlan([gate], extra), measured(m), SUBSETS);
  if (!r) throw new Error('no result');
  return r;
}

const lat = (canary: number, stable = 100) => ({ p99: ok({ canary, stable }) });

describe('errorRate gate', () => {
  test('passes below max, reporting the value in percent and the threshold', () => {
    const r = one(ERRORS, { canary: { total: 200, errors: 1 } });
    expect(r).toMatchObject({ name: 'errors', verdict: GateVerdict.Pass, value: 0.5, threshold: '<= 1%' });
    expect(r.message).toBe('error rate 0.5% within <= 1%');
  });

  test('fails above max with a message containing the value and the threshold', () => {
    const r = one(ERRORS, { canary: { total: 1000, errors: 124 } });
    expect(r).toMatchObject({ verdict: GateVerdict.Fail, value: 12.4, threshold: '<= 1%' });
    expect(r.message).toContain('error rate 12.4% > 1%');
    expect(r.message).toContain('124 of 1000 v2 requests in 1m');
  });

  test('an error rate exactly at max passes (7 of 100 at max 7%)', () => {
    const r = one({ name: 'errors', errorRate: { max: '7%' } }, { canary: { total: 100, errors: 7 } });
    expect(r).toMatchObject({ verdict: GateVerdict.Pass, value: 7 });
  });

  test('one error more than max fails (8 of 100 at max 7%)', () => {
    expect(one({ name: 'errors', errorRate: { max: '7%' } }, { canary: { total: 100, errors: 8 } }).verdict).toBe(GateVerdict.Fail);
  });

  test('fewer canary requests than the default minRequests (50) is Inconclusive, naming the count and the need', () => {
    const r = one(ERRORS, { canary: { total: 49, errors: 49 } });
    expect(r.verdict).toBe(GateVerdict.Inconclusive);
    expect(r.message).toBe('errors: only 49 v2 requests in the last 1m (need 50)');
    expect(r.value).toBeUndefined();
    expect(r.threshold).toBe('<= 1%');
  });

  test('exactly minRequests canary requests is enough to judge', () => {
    expect(one(ERRORS, { canary: { total: 50, errors: 0 } }).verdict).toBe(GateVerdict.Pass);
  });

  test('honours spec.minRequests and spec.window in the message', () => {
    expect(one(ERRORS, { canary: { total: 10, errors: 0 } }, { minRequests: 10 }).verdict).toBe(GateVerdict.Pass);
    const r = one(ERRORS, { canary: { total: 9, errors: 0 } }, { minRequests: 10, window: '5m' });
    expect(r.verdict).toBe(GateVerdict.Inconclusive);
    expect(r.message).toBe('errors: only 9 v2 requests in the last 5m (need 10)');
  });

  test('with minRequests 0, no canary requests at all is still Inconclusive (need 1)', () => {
    const r = one(ERRORS, { canary: { total: 0, errors: 0 } }, { minRequests: 0 });
    expect(r.verdict).toBe(GateVerdict.Inconclusive);
    expect(r.message).toContain('only 0 v2 requests');
    expect(r.message).toContain('(need 1)');
  });

  test('a fractional count just below the need (49.6 from increase()) is not reported as the need itself', () => {
    const r = one(ERRORS, { canary: { total: 49.6, errors: 0 } });
    expect(r.verdict).toBe(GateVerdict.Inconclusive);
    expect(r.message).toContain('only 49 v2 requests');
    expect(r.message).not.toContain('only 50');
  });

  test('an absolute-only gate does not need stable traffic', () => {
    const r = one(ERRORS, { canary: { total: 100, errors: 0 }, stable: { total: 0, errors: 0 } });
    expect(r.verdict).toBe(GateVerdict.Pass);
    expect(r.stableValue).toBeUndefined();
  });

  test('a relative gate catches a canary worse than stable while its absolute max alone would pass', () => {
    const m = { canary: { total: 100, errors: 3 }, stable: { total: 1000, errors: 5 } };
    expect(one({ name: 'errors', errorRate: { max: '5%' } }, m).verdict).toBe(GateVerdict.Pass);
    const r = one({ name: 'errors', errorRate: { max: '5%', maxIncreaseOverStable: '1%' } }, m);
    expect(r).toMatchObject({ verdict: GateVerdict.Fail, value: 3, stableValue: 0.5, threshold: '<= 5% and <= stable + 1%' });
    expect(r.message).toBe("error rate 3% is 2.5 points above stable's 0.5% (allowed +1%)");
  });

  test('a relative gate passes within the allowed increase and reports the stable rate', () => {
    const r = one({ name: 'errors', errorRate: { maxIncreaseOverStable: '1%' } }, { canary: { total: 100, errors: 1 }, stable: { total: 1000, errors: 5 } });
    expect(r).toMatchObject({ verdict: GateVerdict.Pass, value: 1, stableValue: 0.5, threshold: '<= stable + 1%' });
    expect(r.message).toBe('error rate 1% (stable 0.5%) within <= stable + 1%');
  });

  test('a relative gate with fewer stable requests than minRequests is Inconclusive, naming the stable count', () => {
    const r = one({ name: 'errors', errorRate: { maxIncreaseOverStable: '1%' } }, { canary: { total: 100, errors: 0 }, stable: { total: 12, errors: 0 } });
    expect(r.verdict).toBe(GateVerdict.Inconclusive);
    expect(r.message).toBe('errors: only 12 v1 (stable) requests in the last 1m (need 50)');
  });

  test('a failed request-count query is an Error carrying the Prometheus message', () => {
    const r = one(ERRORS, { requestsError: 'cannot reach Prometheus at http://p: ECONNREFUSED' });
    expect(r).toMatchObject({ verdict: GateVerdict.Error, threshold: '<= 1%', message: 'errors: cannot reach Prometheus at http://p: ECONNREFUSED' });
    expect(r.value).toBeUndefined();
  });
});

describe('latency gate', () => {
  test('passes below maxMs with the value in milliseconds', () => {
    const r = one(P99, { latency: lat(420.123) });
    expect(r).toMatchObject({ verdict: GateVerdict.Pass, value: 420, threshold: '<= 500ms' });
    expect(r.message).toBe('p99 latency 420ms within <= 500ms');
  });

  test('a latency exactly at maxMs passes', () => {
    expect(one(P99, { latency: lat(500) }).verdict).toBe(GateVerdict.Pass);
  });

  test('fails above maxMs with a message containing the value and the threshold', () => {
    const r = one(P99, { latency: lat(620) });
    expect(r).toMatchObject({ verdict: GateVerdict.Fail, value: 620, stableValue: 100 });
    expect(r.message).toBe('p99 latency 620ms > 500ms');
  });

  test('NaN canary latency (no data) is Inconclusive', () => {
    const r = one(P99, { latency: lat(Number.NaN) });
    expect(r.verdict).toBe(GateVerdict.Inconclusive);
    expect(r.message).toBe('p99: no p99 latency data for v2 in 1m');
    expect(r.value).toBeUndefined();
  });

  test('fewer canary requests than minRequests is Inconclusive even with a latency value', () => {
    const r = one(P99, { canary: { total: 3, errors: 0 }, latency: lat(10_000) });
    expect(r.verdict).toBe(GateVerdict.Inconclusive);
    expect(r.message).toBe('p99: only 3 v2 requests in the last 1m (need 50)');
  });

  test('a relative gate catches a canary slower than stable while its absolute maxMs alone would pass', () => {
    const m = { latency: lat(300, 150) };
    expect(one({ name: 'p99', latency: { percentile: 99, maxMs: 1000 } }, m).verdict).toBe(GateVerdict.Pass);
    const r = one({ name: 'p99', latency: { percentile: 99, maxMs: 1000, maxIncreaseOverStableMs: 100 } }, m);
    expect(r).toMatchObject({ verdict: GateVerdict.Fail, value: 300, stableValue: 150, threshold: '<= 1000ms and <= stable + 100ms' });
    expect(r.message).toBe("p99 latency 300ms is 150ms above stable's 150ms (allowed +100ms)");
  });

  test('a relative gate within the allowed increase passes', () => {
    const r = one({ name: 'p99', latency: { percentile: 99, maxIncreaseOverStableMs: 100 } }, { latency: lat(240, 150) });
    expect(r).toMatchObject({ verdict: GateVerdict.Pass, value: 240, stableValue: 150 });
  });

  test('a relative gate without stable latency data is Inconclusive, keeping the canary value', () => {
    const r = one({ name: 'p99', latency: { percentile: 99, maxIncreaseOverStableMs: 100 } }, { latency: lat(240, Number.NaN) });
    expect(r).toMatchObject({ verdict: GateVerdict.Inconclusive, value: 240, message: 'p99: no p99 latency data for stable v1 in 1m' });
  });

  test('a relative gate with fewer stable requests than minRequests is Inconclusive', () => {
    const r = one({ name: 'p99', latency: { percentile: 99, maxIncreaseOverStableMs: 100 } }, { stable: { total: 20, errors: 0 }, latency: lat(240, 150) });
    expect(r.verdict).toBe(GateVerdict.Inconclusive);
    expect(r.message).toContain('only 20 v1 (stable) requests');
  });

  test('an absolute-only gate passes without stable data and reports no stable value', () => {
    const r = one(P99, { latency: lat(200, Number.NaN) });
    expect(r.verdict).toBe(GateVerdict.Pass);
    expect(r.stableValue).toBeUndefined();
  });

  test('a failed latency query is an Error carrying the Prometheus message', () => {
    const r = one(P99, { latency: { p99: failed('Prometheus at http://p did not answer within 5000ms') } });
    expect(r).toMatchObject({ verdict: GateVerdict.Error, message: 'p99: Prometheus at http://p did not answer within 5000ms' });
  });

  test('a failed request-count query is an Error for a latency gate too', () => {
    expect(one(P99, { requestsError: 'boom', latency: lat(100) })).toMatchObject({ verdict: GateVerdict.Error, message: 'p99: boom' });
  });

  test('a latency gate that was not measured at all is an Error', () => {
    expect(one(P99, {})).toMatchObject({ verdict: GateVerdict.Error, message: 'p99: not measured' });
  });

  test('names the percentile in messages (p99.9)', () => {
    const r = one({ name: 'tail', latency: { percentile: 99.9, maxMs: 500 } }, { latency: { tail: ok({ canary: 900, stable: 100 }) } });
    expect(r.message).toBe('p99.9 latency 900ms > 500ms');
  });
});

describe('custom query gate', () => {
  const SUCCESS: Gate = { name: 'success-rate', query: 'sum(x)', min: 0.99, max: 1 };

  test('passes within min and max', () => {
    const r = one(SUCCESS, { custom: { 'success-rate': ok(0.995) } });
    expect(r).toMatchObject({ verdict: GateVerdict.Pass, value: 1, threshold: '>= 0.99 and <= 1' });
    expect(r.message).toBe('success-rate 1 within >= 0.99 and <= 1');
  });

  test('fails above max with the value and the threshold', () => {
    const r = one({ name: 'queue', query: 'q', max: 3 }, { custom: { queue: ok(5) } });
    expect(r).toMatchObject({ verdict: GateVerdict.Fail, value: 5, threshold: '<= 3', message: 'queue 5 > 3' });
  });

  test('fails below min with the value and the threshold', () => {
    const r = one(SUCCESS, { custom: { 'success-rate': ok(0.5) } });
    expect(r).toMatchObject({ verdict: GateVerdict.Fail, value: 0.5, message: 'success-rate 0.5 < 0.99' });
  });

  test('no data is Inconclusive', () => {
    const r = one(SUCCESS, { custom: { 'success-rate': ok(undefined) } });
    expect(r).toMatchObject({ verdict: GateVerdict.Inconclusive, message: 'success-rate: the query returned no data' });
  });

  test('NaN is Inconclusive', () => {
    expect(one(SUCCESS, { custom: { 'success-rate': ok(Number.NaN) } }).verdict).toBe(GateVerdict.Inconclusive);
  });

  test('a query error is an Error carrying the message', () => {
    const r = one(SUCCESS, { custom: { 'success-rate': failed('Prometheus rejected the query (HTTP 400, bad_data): parse error') } });
    expect(r).toMatchObject({ verdict: GateVerdict.Error, message: 'success-rate: Prometheus rejected the query (HTTP 400, bad_data): parse error' });
  });

  test('does not depend on request counts or minRequests', () => {
    expect(one(SUCCESS, { requestsError: 'down', custom: { 'success-rate': ok(1) } }).verdict).toBe(GateVerdict.Pass);
    expect(one(SUCCESS, { canary: { total: 0, errors: 0 }, custom: { 'success-rate': ok(1) } }).verdict).toBe(GateVerdict.Pass);
  });
});

describe('evaluateGates', () => {
  test('returns one result per gate, in spec order, each with its status query', () => {
    const spec = analysisPlan([ERRORS, P99, { name: 'c', query: 'q', max: 1 }]);
    const results = evaluateGates(spec, measured({ latency: lat(100), custom: { c: ok(0) }, queries: { errors: 'E', p99: 'L', c: 'C' } }), SUBSETS);
    expect(results.map((r) => [r.name, r.query, r.verdict])).toEqual([
      ['errors', 'E', GateVerdict.Pass],
      ['p99', 'L', GateVerdict.Pass],
      ['c', 'C', GateVerdict.Pass],
    ]);
  });
});

describe('roundVerdict', () => {
  const r = (verdict: GateVerdict): GateResult => ({ name: verdict, query: '', threshold: '', verdict, message: '' });
  const { Pass, Fail, Error, Inconclusive } = GateVerdict;

  test('all gates passing is Pass', () => {
    expect(roundVerdict([r(Pass), r(Pass)])).toBe(Pass);
  });
  test('Fail wins over Error, Inconclusive and Pass', () => {
    expect(roundVerdict([r(Pass), r(Inconclusive), r(Error), r(Fail)])).toBe(Fail);
  });
  test('Error wins over Inconclusive and Pass', () => {
    expect(roundVerdict([r(Inconclusive), r(Error), r(Pass)])).toBe(Error);
  });
  test('Inconclusive wins over Pass', () => {
    expect(roundVerdict([r(Pass), r(Inconclusive)])).toBe(Inconclusive);
  });
});

describe('thresholdOf', () => {
  test('joins absolute and relative thresholds', () => {
    expect(thresholdOf({ name: 'e', errorRate: { max: '1%', maxIncreaseOverStable: '0.5%' } })).toBe('<= 1% and <= stable + 0.5%');
    expect(thresholdOf({ name: 'l', latency: { percentile: 95, maxMs: 250, maxIncreaseOverStableMs: 50 } })).toBe('<= 250ms and <= stable + 50ms');
    expect(thresholdOf({ name: 'q', query: 'q', min: 1, max: 2 })).toBe('>= 1 and <= 2');
  });
});

describe('results kept between rounds', () => {
  // V8's own answer to whether two objects share one hidden class (a result held per release until its next round).
  setFlagsFromString('--allow-natives-syntax');
  const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

  test('share one hidden class per set of fields, whatever round or gate made them, instead of one each', () => {
    const pass = one(ERRORS, { canary: { total: 200, errors: 1 } });
    const fail = one(ERRORS, { canary: { total: 1000, errors: 124 } });
    const slow = one(P99, { latency: lat(900) });
    const noData = one(ERRORS, { canary: { total: 3, errors: 0 } });
    const noDataToo = one(P99, { canary: { total: 2, errors: 0 } });
    expect([pass.value, fail.value, slow.value]).toEqual([0.5, 12.4, 900]);
    expect(sameMap(pass, fail)).toBe(true);
    expect(sameMap(noData, noDataToo)).toBe(true);
    expect(noData.value).toBeUndefined();
  });
});
