// Per-release gauges kept as text: what a scrape reads is what prom-client
// would write for the same series, through any sequence of sets and deletes.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { Gauge, Registry } from 'prom-client';
import { RenderedGaugeFamily, escapeLabelValue, formatSampleValue } from '../../../src/metrics/rendered-gauges.js';

const LABELS = ['namespace', 'name', 'gate'] as const;
const HELP = 'Help with a backslash \\ and\na newline.';

/**
 * prom-client's text for a gauge holding these series, in this order; its "Nan"
 * written as the format's "NaN" (Prometheus parses either, the format says NaN).
 */
async function promClientText(series: ReadonlyArray<readonly [readonly string[], number]>): Promise<string> {
  const registry = new Registry();
  const gauge = new Gauge({ name: 'test_gauge', help: HELP, labelNames: [...LABELS], registers: [registry] });
  for (const [values, value] of series) gauge.set({ namespace: values[0]!, name: values[1]!, gate: values[2]! }, value);
  return (await registry.metrics()).replace(/\} Nan$/gm, '} NaN');
}

describe('RenderedGaugeFamily', () => {
  test('writes HELP, TYPE and series as prom-client does, escapes included', async () => {
    const f = new RenderedGaugeFamily('test_gauge', HELP, LABELS);
    expect(f.text()).toBe(await promClientText([]));
    f.set('a/x', [[['a', 'x', 'q"uote\\back\nline'], 1.5], [['a', 'x', 'p99'], Infinity]]);
    f.set('b/y', [[['b', 'y', 'errors'], NaN]]);
    const text = f.text();
    expect(text).toContain('test_gauge{namespace="a",name="x",gate="q\\"uote\\\\back\\nline"} 1.5\n');
    expect(text).toContain('test_gauge{namespace="a",name="x",gate="p99"} +Inf\n');
    expect(text).toBe(await promClientText([[['a', 'x', 'q"uote\\back\nline'], 1.5], [['a', 'x', 'p99'], Infinity], [['b', 'y', 'errors'], NaN]]));
  });

  test('an owner\'s set replaces all its series; an empty set or a delete drops them', () => {
    const f = new RenderedGaugeFamily('test_gauge', 'h', LABELS);
    f.set('a/x', [[['a', 'x', 'errors'], 1], [['a', 'x', 'p99'], 2]]);
    f.set('b/y', [[['b', 'y', 'errors'], 3]]);
    f.set('a/x', [[['a', 'x', 'p99'], 4]]);
    expect(f.text().split('\n').filter((l) => !l.startsWith('#') && l)).toEqual([
      'test_gauge{namespace="a",name="x",gate="p99"} 4',
      'test_gauge{namespace="b",name="y",gate="errors"} 3',
    ]);
    f.set('a/x', []);
    f.delete('b/y');
    f.delete('never/set');
    expect(f.text()).toBe('# HELP test_gauge h\n# TYPE test_gauge gauge\n');
  });

  test('through random sets and deletes, its text is prom-client\'s for the series left', async () => {
    const labelValue = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '"', '\\', '\n', 'é', ' '), maxLength: 6 });
    const value = fc.oneof(fc.double(), fc.integer({ min: -1e6, max: 1e6 }), fc.constantFrom(0, -0, NaN, Infinity, -Infinity));
    const owner = fc.constantFrom('a/x', 'a/y', 'b/x');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), owner, samples: fc.array(fc.tuple(labelValue, value), { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('delete' as const), owner }),
    );
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
      const f = new RenderedGaugeFamily('test_gauge', HELP, LABELS);
      // The model: each owner's series, owners in the order they first had series (and kept it while they had any).
      const model = new Map<string, Array<readonly [readonly string[], number]>>();
      for (const o of ops) {
        if (o.kind === 'delete') {
          f.delete(o.owner);
          model.delete(o.owner);
          continue;
        }
        // One series per gate label within an owner, as a gauge keys its series by labels.
        const byGate = new Map(o.samples.map(([gate, v]) => [gate, v] as const));
        const samples = [...byGate].map(([gate, v]) => [[...o.owner.split('/'), gate], v] as const);
        f.set(o.owner, samples);
        if (samples.length === 0) model.delete(o.owner);
        else model.set(o.owner, samples);
        expect(f.text()).toBe(f.text());
      }
      // prom-client keys series by label values across owners; owners' label values never collide here (namespace/name differ).
      expect(f.text()).toBe(await promClientText([...model.values()].flat()));
    }), { numRuns: 300 });
  });
});

describe('text format helpers', () => {
  test('label values escape backslash, quote and newline only', () => {
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
  });

  test('sample values: NaN, +Inf, -Inf, and numbers as JavaScript writes them', () => {
    expect([NaN, Infinity, -Infinity, 0, 1.5, 1e21, -3].map(formatSampleValue)).toEqual(['NaN', '+Inf', '-Inf', '0', '1.5', '1e+21', '-3']);
  });
});
