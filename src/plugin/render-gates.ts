// status.analysis as a table: each gate's measured value, the stable
// subset's value where the gate compares with it, the threshold and verdict.
import type { AnalysisStatus, GateResult } from '../api/analysis-status.js';
import { ageOf, formatNumber, table } from './format.js';
import type { ReleaseObject } from './release-api.js';

type GateSpec = NonNullable<NonNullable<ReleaseObject['spec']>['analysis']>['gates'];

/** The unit of a gate's value: error rates (and a sequential gate's event shares) are percent, latencies milliseconds, custom queries as returned. */
export function gateUnit(name: string, gates: GateSpec): string {
  const g = gates?.find((x) => x.name === name);
  if (g?.errorRate || g?.sequential) return '%';
  if (g?.latency) return 'ms';
  return '';
}

export function formatGateValue(v: number | undefined, unit: string): string {
  return v === undefined ? '-' : `${formatNumber(v)}${unit}`;
}

export function renderGates(analysis: AnalysisStatus | undefined, gates: GateSpec, now: Date, onFailure?: string): string[] {
  if (!analysis) return gates?.length ? [`Gates: ${gates.length} configured, not evaluated yet (they run while the canary has traffic)`] : [];
  const head = `Gates: ${analysis.verdict} at ${analysis.evaluatedAt} (${ageOf(analysis.evaluatedAt, now)} ago)` +
    `, ${analysis.consecutiveFailures} consecutive failing round${analysis.consecutiveFailures === 1 ? '' : 's'}` +
    (onFailure ? `, on failure: ${onFailure}` : '') +
    (analysis.inconclusiveSince ? `, inconclusive since ${analysis.inconclusiveSince}` : '') +
    (analysis.errorSince ? `, metrics failing since ${analysis.errorSince}` : '');
  const rows = analysis.gates.map((g: GateResult) => {
    const unit = gateUnit(g.name, gates);
    return [g.name, g.verdict, formatGateValue(g.value, unit), formatGateValue(g.stableValue, unit), g.threshold || '-', g.message];
  });
  return [head, ...table(['GATE', 'VERDICT', 'VALUE', 'STABLE', 'THRESHOLD', 'MESSAGE'], rows, '  ')];
}
