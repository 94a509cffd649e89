// The operator's per-release series: one gate_verdict series per gate (the
// verdict it has), a gate's last measured value, and none left once the
// release is deleted.
import { describe, expect, test } from '@jest/globals';
import { Registry } from 'prom-client';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';
import type { Decision } from '../../../src/core/decide.js';
import { OperatorMetrics } from '../../../src/metrics/operator-metrics.js';

const release: CanaryReleaseObject = { apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease', metadata: { name: 'reviews', namespace: 'bookinfo' } };
const decision = (verdict: GateVerdict, value: number | undefined = 0.5, canaryWeight = 10): Decision => ({
  status: { phase: 'Progressing', canaryWeight, analysis: { evaluatedAt: '2025-03-01T12:00:00.000Z', verdict, consecutiveFailures: 0,
    gates: [{ name: 'errors', query: 'q', threshold: '<= 1%', verdict, message: 'm', ...(value === undefined ? {} : { value }) }] } },
  events: [],
} as unknown as Decision);

const seriesOf = (m: OperatorMetrics, family: string) => m.releaseSeriesText().split('\n').filter((l) => l.startsWith(`${family}{`));
const verdictSeries = async (m: OperatorMetrics) => seriesOf(m, 'canary_operator_gate_verdict');

describe('canary_operator_gate_verdict', () => {
  test('one series per gate, labelled with the verdict it has; a new verdict replaces it', async () => {
    const registry = new Registry();
    const m = new OperatorMetrics(registry, () => [], () => 0);
    const { decided, releaseDeleted } = m.hooks();
    decided?.(release, decision(GateVerdict.Pass));
    expect(await verdictSeries(m)).toEqual(['canary_operator_gate_verdict{namespace="bookinfo",name="reviews",gate="errors",verdict="Pass"} 1']);
    decided?.(release, decision(GateVerdict.Judging));
    decided?.(release, decision(GateVerdict.Fail));
    expect(await verdictSeries(m)).toEqual(['canary_operator_gate_verdict{namespace="bookinfo",name="reviews",gate="errors",verdict="Fail"} 1']);
    releaseDeleted?.('bookinfo/reviews');
    expect(await verdictSeries(m)).toEqual([]);
  });
});

describe('per-release series', () => {
  test('weight and gate value follow the decisions; a round without a value keeps the last one; a delete drops all', () => {
    const m = new OperatorMetrics(new Registry(), () => [], () => 0);
    const { decided, releaseDeleted } = m.hooks();
    decided?.(release, decision(GateVerdict.Pass, 0.5, 10));
    decided?.(release, decision(GateVerdict.Inconclusive, undefined, 50));
    expect(seriesOf(m, 'canary_operator_canary_weight')).toEqual(['canary_operator_canary_weight{namespace="bookinfo",name="reviews"} 50']);
    expect(seriesOf(m, 'canary_operator_gate_value')).toEqual(['canary_operator_gate_value{namespace="bookinfo",name="reviews",gate="errors"} 0.5']);
    expect(seriesOf(m, 'canary_operator_route_drift')).toEqual(['canary_operator_route_drift{namespace="bookinfo",name="reviews"} 0']);
    releaseDeleted?.('bookinfo/reviews');
    expect(m.releaseSeriesText().split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
  });

  test('are not in the registry: /metrics is the registry\'s text and then these, each family once', async () => {
    const registry = new Registry();
    const m = new OperatorMetrics(registry, () => [], () => 0);
    m.hooks().decided?.(release, decision(GateVerdict.Pass));
    const text = (await registry.metrics()) + m.releaseSeriesText();
    for (const family of ['canary_operator_canary_weight', 'canary_operator_route_drift', 'canary_operator_gate_value', 'canary_operator_gate_verdict', 'canary_operator_releases']) {
      expect(text.split('\n').filter((l) => l === `# TYPE ${family} gauge`)).toHaveLength(1);
    }
    expect(await registry.metrics()).not.toContain('canary_operator_canary_weight');
  });
});
