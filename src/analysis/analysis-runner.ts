// One analysis round for one release: send the (grouped, cached) queries,
// pick the release's series, and evaluate the gates. Never throws: a
// Prometheus problem becomes an Error verdict, which holds the release.
import { ANALYSIS_DEFAULTS, type AnalysisSpec } from '../api/analysis-spec.js';
import type { AnalysisRound } from '../core/analysis-rules.js';
import { parseDuration } from '../core/duration.js';
import { evaluateGates, roundVerdict } from './evaluate-gates.js';
import type { Measured, ReleaseMeasurements } from './measurements.js';
import type { MetricsQuerier, QueryResult } from './prometheus/client.js';
import { latencyMs, latencyQuery, renderQueryTemplate, requestCountsQuery, requestStats, singleValue, type Workload } from './prometheus/queries.js';
import { describeGateQuery } from './release-queries.js';

export interface AnalysisTarget {
  namespace: string;
  service: string;
  stableSubset: string;
  canarySubset: string;
  /** Labels of the DestinationRule subsets (the version label gives destination_version). */
  stableLabels: Record<string, string>;
  canaryLabels: Record<string, string>;
}

export class AnalysisRunner {
  constructor(
    /** One querier per analysis interval, so its cache lives about half an interval. */
    private readonly querierFor: (intervalMs: number) => MetricsQuerier,
    private readonly defaultAddress: string | undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async run(spec: AnalysisSpec, t: AnalysisTarget): Promise<AnalysisRound> {
    const measurements = await this.measure(spec, t);
    const results = evaluateGates(spec, measurements, { stable: t.stableSubset, canary: t.canarySubset });
    return { evaluatedAt: this.clock(), results, verdict: roundVerdict(results) };
  }

  async measure(spec: AnalysisSpec, t: AnalysisTarget): Promise<ReleaseMeasurements> {
    const window = spec.window ?? ANALYSIS_DEFAULTS.window;
    const versionLabel = spec.versionLabel ?? ANALYSIS_DEFAULTS.versionLabel;
    const canaryVersion = t.canaryLabels[versionLabel];
    const stableVersion = t.stableLabels[versionLabel];
    const canary: Workload = { namespace: t.namespace, service: t.service, version: canaryVersion ?? t.canarySubset };
    const stable: Workload = { namespace: t.namespace, service: t.service, version: stableVersion ?? t.stableSubset };
    const queries: Record<string, string> = {};
    const fail = (message: string): Measured<never> => ({ ok: false, message });
    const m: ReleaseMeasurements = { requests: fail('not measured'), latency: {}, custom: {}, queries };

    const address = spec.prometheus?.address ?? this.defaultAddress;
    const missing = !canaryVersion ? t.canarySubset : !stableVersion ? t.stableSubset : undefined;
    const setup = !address
      ? 'no Prometheus address: set spec.analysis.prometheus.address or the operator\'s PROMETHEUS_ADDRESS'
      : missing
        ? `DestinationRule subset "${missing}" has no "${versionLabel}" label to match Istio's destination_version; set spec.analysis.versionLabel`
        : undefined;
    for (const g of spec.gates) {
      const rendered = g.query !== undefined ? renderQueryTemplate(g.query, { ...canary, stableVersion: stable.version, window }) : undefined;
      queries[g.name] = describeGateQuery(g, canary, window, rendered?.ok ? rendered.promql : undefined);
    }
    if (setup || !address) {
      m.requests = fail(setup ?? 'no address');
      for (const g of spec.gates) {
        if (g.latency) m.latency[g.name] = fail(setup ?? '');
        if (g.query !== undefined) m.custom[g.name] = fail(setup ?? '');
      }
      return m;
    }

    const querier = this.querierFor(parseDuration(spec.interval ?? ANALYSIS_DEFAULTS.interval) ?? 30_000);
    const timeout = parseDuration(spec.prometheus?.timeout ?? ANALYSIS_DEFAULTS.timeout) ?? 5000;
    const ask = (promql: string): Promise<QueryResult> => querier.query(address, promql, timeout);

    const needsRequests = spec.gates.some((g) => g.errorRate || g.latency);
    const pending: Promise<void>[] = [];
    if (needsRequests) {
      pending.push(ask(requestCountsQuery(window)).then((r) => {
        if (!r.ok) m.requests = fail(r.message);
        else {
          const c = requestStats(r.samples, canary);
          const s = requestStats(r.samples, stable);
          m.requests = { ok: true, value: { canary: { total: c.total, errors: c.serverErrors }, stable: { total: s.total, errors: s.serverErrors } } };
        }
      }));
    }
    // Gates with the same percentile share one grouped query.
    const latencyByPercentile = new Map<number, Promise<QueryResult>>();
    for (const g of spec.gates) {
      if (g.latency) {
        const name = g.name;
        const percentile = g.latency.percentile;
        let sent = latencyByPercentile.get(percentile);
        if (!sent) latencyByPercentile.set(percentile, (sent = ask(latencyQuery(percentile, window))));
        pending.push(sent.then((r) => {
          m.latency[name] = r.ok ? { ok: true, value: { canary: latencyMs(r.samples, canary), stable: latencyMs(r.samples, stable) } } : fail(r.message);
        }));
      } else if (g.query !== undefined) {
        const name = g.name;
        const rendered = renderQueryTemplate(g.query, { ...canary, stableVersion: stable.version, window });
        if (!rendered.ok) {
          m.custom[name] = fail(rendered.message);
          continue;
        }
        pending.push(ask(rendered.promql).then((r) => {
          if (!r.ok) return void (m.custom[name] = fail(r.message));
          const one = singleValue(r.samples);
          m.custom[name] = one.ok ? { ok: true, value: one.value } : one.reason === 'no-data' ? { ok: true, value: undefined } : fail(one.message);
        }));
      }
    }
    await Promise.all(pending);
    return m;
  }
}

