// The operator's per-release series: one gate_verdict series per gate (the
// verdict it has), and none left once the release is deleted.
import { describe, expect, test } from '@jest/globals';
import { Registry } from 'prom-client';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';
import type { Decision } from '../../../src/core/decide.js';
import { OperatorMetrics } from '../../../src/metrics/operator-metrics.js';

const release: CanaryReleaseObject = { apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease', metadata: { name: 'reviews', namespace: 'bookinfo' } };
const decision = (verdict: GateVerdict): Decision => ({
  status: { phase: 'Progressing', canaryWeight: 10, analysis: { evaluatedAt: '2025-03-01T12:00:00.000Z', verdict, consecutiveFailures: 0,
    gates: [{ name: 'errors', query: 'q', threshold: '<= 1%', verdict, message: 'm', value: 0.5 }] } },
  events: [],
} as unknown as Decision);

async function verdictSeries(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith('canary_operator_gate_verdict{'));
}

describe('canary_operator_gate_verdict', () => {
  test('one series per gate, labelled with the verdict it has; a new verdict replaces it', async () => {
    const registry = new Registry();
    const m = new OperatorMetrics(registry, () => [], () => 0);
    const { decided, releaseDeleted } = m.hooks();
    decided?.(release, decision(GateVerdict.Pass));
    expect(await verdictSeries(registry)).toEqual(['canary_operator_gate_verdict{namespace="bookinfo",name="reviews",gate="errors",verdict="Pass"} 1']);
    decided?.(release, decision(GateVerdict.Judging));
    decided?.(release, decision(GateVerdict.Fail));
    expect(await verdictSeries(registry)).toEqual(['canary_operator_gate_verdict{namespace="bookinfo",name="reviews",gate="errors",verdict="Fail"} 1']);
    releaseDeleted?.('bookinfo/reviews');
    expect(await verdictSeries(registry)).toEqual([]);
  });
});
