import { describe, expect, test } from '@jest/globals';
import type { AnalysisSpec, Gate } from '../../../src/api/analysis-spec.js';
import { validateSpec, type FieldProblem } from '../../../src/api/validate.js';
import { analysisProblems } from '../../../src/api/validate-analysis.js';
import { baseSpec } from '../release-fixtures.js';
import { PROM, analysisSpec } from './analysis-fixtures.js';

const ERRORS: Gate = { name: 'errors', errorRate: { max: '1%' } };
const problems = (gates: Gate[], extra: Partial<AnalysisSpec> = {}) => analysisProblems(analysisSpec(gates, extra));
const fields = (ps: FieldProblem[]) => ps.map((p) => p.field);

/** validateSpec on a whole CanaryRelease spec with this analysis section. */
const validate = (analysis: unknown, ctx = {}) => validateSpec({ ...baseSpec(), analysis }, ctx);

describe('analysisProblems', () => {
  test('no analysis section has no problems', () => {
    expect(analysisProblems(undefined)).toEqual([]);
  });

  test('one gate of each kind with thresholds has no problems', () => {
    expect(problems([
      ERRORS,
      { name: 'p99', latency: { percentile: 99, maxMs: 500 } },
      { name: 'p95-vs-stable', latency: { percentile: 95, maxIncreaseOverStableMs: 50 } },
      { name: 'errors-vs-stable', errorRate: { maxIncreaseOverStable: '0.5%' } },
      { name: 'custom', query: 'sum(rate(x{destination_version="{{version}}",stable="{{stableVersion}}"}[{{window}}]))', max: 1, min: 0 },
    ])).toEqual([]);
  });

  describe('exactly one of errorRate, latency or query per gate', () => {
    test('errorRate and latency together', () => {
      expect(problems([{ name: 'both', errorRate: { max: '1%' }, latency: { percentile: 99, maxMs: 1 } }])).toEqual([
        { field: 'spec.analysis.gates[0]', problem: 'must have exactly one of errorRate, latency, query or sequential (has errorRate, latency)' },
      ]);
    });

    test('errorRate and query together', () => {
      expect(problems([{ name: 'both', errorRate: { max: '1%' }, query: 'up', max: 1 }])).toEqual([
        { field: 'spec.analysis.gates[0]', problem: 'must have exactly one of errorRate, latency, query or sequential (has errorRate, query)' },
      ]);
    });

    test('none of them', () => {
      expect(problems([ERRORS, { name: 'empty' }])).toEqual([
        { field: 'spec.analysis.gates[1]', problem: 'must have exactly one of errorRate, latency, query or sequential (has none)' },
      ]);
    });
  });

  test('duplicate gate names are reported at the later gate', () => {
    expect(problems([ERRORS, { name: 'p99', latency: { percentile: 99, maxMs: 1 } }, { name: 'errors', errorRate: { max: '2%' } }])).toEqual([
      { field: 'spec.analysis.gates[2].name', problem: '"errors" is used by another gate; names must be unique' },
    ]);
  });

  describe('missing thresholds', () => {
    test('an errorRate gate without max or maxIncreaseOverStable', () => {
      expect(problems([{ name: 'e', errorRate: {} }])).toEqual([{ field: 'spec.analysis.gates[0].errorRate', problem: 'needs max and/or maxIncreaseOverStable' }]);
    });
    test('a latency gate without maxMs or maxIncreaseOverStableMs', () => {
      expect(problems([{ name: 'l', latency: { percentile: 99 } }])).toEqual([{ field: 'spec.analysis.gates[0].latency', problem: 'needs maxMs and/or maxIncreaseOverStableMs' }]);
    });
    test('a query gate without max or min', () => {
      expect(problems([{ name: 'q', query: 'up' }])).toEqual([{ field: 'spec.analysis.gates[0].max', problem: 'a query gate needs max and/or min' }]);
    });
  });

  test('min greater than max on a query gate', () => {
    expect(problems([{ name: 'q', query: 'up', min: 2, max: 1 }])).toEqual([{ field: 'spec.analysis.gates[0].min', problem: 'must not exceed max (1)' }]);
  });

  test('min equal to max is allowed', () => {
    expect(problems([{ name: 'q', query: 'up', min: 1, max: 1 }])).toEqual([]);
  });

  test('max or min on a gate that is not a query gate', () => {
    expect(problems([{ name: 'e', errorRate: { max: '1%' }, max: 3 }])).toEqual([{ field: 'spec.analysis.gates[0].max', problem: 'only applies to a query gate' }]);
    expect(fields(problems([{ name: 'l', latency: { percentile: 99, maxMs: 1 }, min: 3 }]))).toEqual(['spec.analysis.gates[0].min']);
  });

  describe('Prometheus address', () => {
    test('missing without an operator default is a problem at spec.analysis.prometheus.address', () => {
      const ps = analysisProblems({ gates: [ERRORS] });
      expect(fields(ps)).toEqual(['spec.analysis.prometheus.address']);
      expect(ps[0]?.problem).toContain('PROMETHEUS_ADDRESS');
    });
    test('missing with an operator default is fine', () => {
      expect(analysisProblems({ gates: [ERRORS] }, { defaultPrometheusAddress: PROM })).toEqual([]);
    });
    test('given in the spec is fine without an operator default', () => {
      expect(analysisProblems({ prometheus: { address: PROM }, gates: [ERRORS] })).toEqual([]);
    });
  });

  describe('query templates', () => {
    test('an unknown placeholder is a problem at spec.analysis.gates[i].query naming it', () => {
      const ps = problems([ERRORS, { name: 'q', query: 'sum(x{pod="{{pod}}"})', max: 1 }]);
      expect(fields(ps)).toEqual(['spec.analysis.gates[1].query']);
      expect(ps[0]?.problem).toContain('unknown placeholder {{pod}}');
      expect(ps[0]?.problem).toContain('{{namespace}}');
    });
    test('a malformed placeholder is a problem at the query', () => {
      const ps = problems([{ name: 'q', query: 'sum(x{v="{{ version"})', max: 1 }]);
      expect(fields(ps)).toEqual(['spec.analysis.gates[0].query']);
      expect(ps[0]?.problem).toContain('malformed placeholder');
    });
    test('every known placeholder, with or without spaces, is accepted', () => {
      expect(problems([{ name: 'q', query: '{{namespace}} {{ service }} {{version}} {{stableVersion}} {{window}}', max: 1 }])).toEqual([]);
    });
  });

  describe('durations and numbers have bounds (the CRD schema states the same)', () => {
    const problemsOf = (extra: Record<string, unknown>) => {
      const v = validate({ prometheus: { address: PROM }, gates: [ERRORS], ...extra });
      return v.ok ? [] : v.problems;
    };
    test.each([
      ['window', { window: '0s' }, 'spec.analysis.window', 'between 1s and 24h'],
      ['window', { window: '100000h' }, 'spec.analysis.window', 'between 1s and 24h'],
      ['interval', { interval: '0ms' }, 'spec.analysis.interval', 'between 1s and 1h'],
      ['interval', { interval: '1ms' }, 'spec.analysis.interval', 'between 1s and 1h'],
      ['timeout', { prometheus: { address: PROM, timeout: '10m' } }, 'spec.analysis.prometheus.timeout', 'between 100ms and 1m'],
      ['inconclusiveTimeout', { inconclusiveTimeout: '3000000000h' }, 'spec.analysis.inconclusiveTimeout', 'at most 720h'],
      ['minRequests', { minRequests: 1e12 }, 'spec.analysis.minRequests', 'at most 1000000'],
      ['failureLimit', { failureLimit: 1000 }, 'spec.analysis.failureLimit', 'at most 100'],
    ])('%s out of bounds is refused at its field', (_, extra, field, text) => {
      const ps = problemsOf(extra);
      expect(fields(ps)).toEqual([field]);
      expect(ps[0]?.problem).toContain(text);
    });
    test('windows and intervals within bounds are fine', () => {
      expect(problemsOf({ window: '1m30s', interval: '1s', prometheus: { address: PROM, timeout: '60s' } })).toEqual([]);
    });
    test.each(['file:///etc/passwd', 'gopher://127.0.0.1:70/x', 'ftp://prometheus', 'http://'])('prometheus.address %s is refused: http(s) only', (address) => {
      const ps = problemsOf({ prometheus: { address } });
      expect(fields(ps)).toEqual(['spec.analysis.prometheus.address']);
    });
  });

  test('reports every problem of every gate', () => {
    const ps = analysisProblems({ gates: [{ name: 'a', errorRate: {} }, { name: 'a', query: 'x{{nope}}', min: 5, max: 1 }] });
    expect(fields(ps)).toEqual([
      'spec.analysis.prometheus.address',
      'spec.analysis.gates[0].errorRate',
      'spec.analysis.gates[1].name',
      'spec.analysis.gates[1].query',
      'spec.analysis.gates[1].min',
    ]);
  });
});

describe('validateSpec with spec.analysis', () => {
  test('a valid analysis section makes a valid spec', () => {
    const v = validate({ prometheus: { address: PROM }, gates: [ERRORS] });
    expect(v.ok).toBe(true);
  });

  test('cross-field problems make the spec invalid, with the field named', () => {
    const v = validate({ prometheus: { address: PROM }, gates: [{ name: 'q', query: 'up', min: 2, max: 1 }] });
    expect(v).toEqual({ ok: false, problems: [{ field: 'spec.analysis.gates[0].min', problem: 'must not exceed max (1)' }] });
  });

  test('the operator default address is passed through', () => {
    expect(validate({ gates: [ERRORS] }).ok).toBe(false);
    expect(validate({ gates: [ERRORS] }, { defaultPrometheusAddress: PROM }).ok).toBe(true);
  });

  test('schema problems name the field (percent format)', () => {
    const v = validate({ prometheus: { address: PROM }, gates: [{ name: 'e', errorRate: { max: '1' } }] });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(fields(v.problems)).toEqual(['spec.analysis.gates[0].errorRate.max']);
  });
});
