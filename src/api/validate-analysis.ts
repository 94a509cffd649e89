// Cross-field rules of spec.analysis that the schema cannot express.
import type { AnalysisSpec } from './analysis-spec.js';
import type { FieldProblem } from './validate.js';

export function analysisProblems(a: AnalysisSpec | undefined): FieldProblem[] {
  if (!a) return [];
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  a.gates.forEach((g, i) => {
    const at = `spec.analysis.gates[${i}]`;
    if (seen.has(g.name)) out.push({ field: `${at}.name`, problem: `"${g.name}" is used by another gate; names must be unique` });
    seen.add(g.name);
    const kinds = [g.errorRate && 'errorRate', g.latency && 'latency', g.query !== undefined && 'query'].filter(Boolean);
    if (kinds.length !== 1) {
      out.push({ field: at, problem: `must have exactly one of errorRate, latency or query (has ${kinds.length ? kinds.join(', ') : 'none'})` });
      return;
    }
    if (g.errorRate && g.errorRate.max === undefined && g.errorRate.maxIncreaseOverStable === undefined) {
      out.push({ field: `${at}.errorRate`, problem: 'needs max and/or maxIncreaseOverStable' });
    }
    if (g.latency && g.latency.maxMs === undefined && g.latency.maxIncreaseOverStableMs === undefined) {
      out.push({ field: `${at}.latency`, problem: 'needs maxMs and/or maxIncreaseOverStableMs' });
    }
    if (g.query !== undefined && g.max === undefined && g.min === undefined) {
      out.push({ field: `${at}.max`, problem: 'a query gate needs max and/or min' });
    }
    if (g.query === undefined && (g.max !== undefined || g.min !== undefined)) {
      out.push({ field: `${at}.${g.max !== undefined ? 'max' : 'min'}`, problem: 'only applies to a query gate' });
    }
    if (g.query !== undefined && g.max !== undefined && g.min !== undefined && g.min > g.max) {
      out.push({ field: `${at}.min`, problem: `must not exceed max (${g.max})` });
    }
  });
  return out;
}
