// Cross-field rules of spec.analysis that the schema cannot express.
import { renderQueryTemplate } from '../analysis/prometheus/queries.js';
import type { AnalysisSpec } from './analysis-spec.js';
import { prometheusAddressProblem } from './prometheus-address.js';
import type { FieldProblem } from './validate.js';

export interface AnalysisContext {
  /** The operator's PROMETHEUS_ADDRESS, used when the spec names none. */
  defaultPrometheusAddress?: string | undefined;
  /**
   * The Prometheus base URLs a release may name in spec.analysis.prometheus.address
   * (the operator's PROMETHEUS_ALLOWED_ADDRESSES, default [PROMETHEUS_ADDRESS]:
   * see config.allowedPrometheusAddresses). Undefined: no allowlist check.
   * Match rule (./prometheus-address.ts): normalised scheme, host and port
   * equal, and the path equal to the allowed path or below it after a "/";
   * the release's address may have no userinfo, query, fragment or
   * percent-encoded path. Only http and https, with or without a list.
   */
  allowedPrometheusAddresses?: readonly string[] | undefined;
}

const ADDRESS_FIELD = 'spec.analysis.prometheus.address';

export function analysisProblems(a: AnalysisSpec | undefined, ctx: AnalysisContext = {}): FieldProblem[] {
  if (!a) return [];
  const out: FieldProblem[] = [];
  const address = a.prometheus?.address;
  if (!address && !ctx.defaultPrometheusAddress) {
    out.push({ field: ADDRESS_FIELD, problem: "is required: this operator has no default (its PROMETHEUS_ADDRESS is unset)" });
  }
  if (address) {
    const problem = prometheusAddressProblem(address, ctx.allowedPrometheusAddresses, Boolean(ctx.defaultPrometheusAddress));
    if (problem) out.push({ field: ADDRESS_FIELD, problem });
  }
  const seen = new Set<string>();
  a.gates.forEach((g, i) => {
    const at = `spec.analysis.gates[${i}]`;
    if (seen.has(g.name)) out.push({ field: `${at}.name`, problem: `"${g.name}" is used by another gate; names must be unique` });
    seen.add(g.name);
    const kinds = [g.errorRate && 'errorRate', g.latency && 'latency', g.query !== undefined && 'query', g.sequential && 'sequential'].filter(Boolean);
    if (kinds.length !== 1) {
      out.push({ field: at, problem: `must have exactly one of errorRate, latency, query or sequential (has ${kinds.length ? kinds.join(', ') : 'none'})` });
      return;
    }
    if (g.sequential) {
      const of = [g.sequential.errorRate && 'errorRate', g.sequential.latency && 'latency'].filter(Boolean);
      if (of.length !== 1) out.push({ field: `${at}.sequential`, problem: `must have exactly one of errorRate or latency (has ${of.length ? of.join(', ') : 'none'})` });
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
    if (g.query !== undefined) {
      // Sample values only reveal template mistakes; real values are checked again at every round.
      const r = renderQueryTemplate(g.query, { namespace: 'ns', service: 'svc', version: 'v2', stableVersion: 'v1', window: '1m' });
      if (!r.ok) out.push({ field: `${at}.query`, problem: r.message });
    }
    if (g.query !== undefined && g.max !== undefined && g.min !== undefined && g.min > g.max) {
      out.push({ field: `${at}.min`, problem: `must not exceed max (${g.max})` });
    }
  });
  return out;
}
