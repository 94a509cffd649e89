// One analysis round for one release: send the (grouped, cached) queries at
// the round's evaluation time, pick the release's series, and evaluate the
// gates. Never throws: a Prometheus problem becomes an Error verdict, which
// holds the release. Sequential gates are counted here, over the batch the
// release's status asks for (target.counting), and judged by the core.
import type { AnalysisRound } from '../core/analysis-rules.js';
import type { PreflightResult } from '../core/decide.js';
import type { AnalysisPlan } from '../core/plan.js';
import type { SequentialCounting } from '../core/sequential-counting.js';
import { evaluateGates, roundVerdict } from './evaluate-gates.js';
import type { Measured, ReleaseMeasurements, SequentialMeasurements } from './measurements.js';
import type { MetricsQuerier, QueryResult } from './prometheus/client.js';
import {
  bucketCounts, durationBucketsQuery, latencyMs, latencyQuery, renderQueryTemplate, requestCountsQuery, requestStats, singleValue, toPromDuration, type Reporter, type Workload,
} from './prometheus/queries.js';
import { describeGateQuery, sequentialErrorsQuery, sequentialLatencyQuery } from './release-queries.js';
import type { WorkloadRef } from '../controller/ports.js';

export interface AnalysisTarget {
  namespace: string;
  /** The versions' names (Istio subsets or Gateway API Services), for messages. */
  stableSubset: string;
  canarySubset: string;
  /** Where each version's requests are: its Service, and for a subset the labels that give destination_version. */
  stable: WorkloadRef;
  canary: WorkloadRef;
  /** Whose reports to read (auto settled already: waypoint in ambient mode). Default destination. */
  reporter?: Reporter | undefined;
  /** The sequential gates' batch, from status (countingFor); without it, the interval before the round. */
  counting?: SequentialCounting | undefined;
  /** Every running release's Services (WatchedServices): the grouped queries read only their series. */
  watched?: readonly string[] | undefined;
}

/** The stable history a latency boundary is chosen from: the hour before the batch. */
export const BOUNDARY_HISTORY = '1h';

/** A query that any Prometheus answers: proves the address and the API work before traffic moves. */
export const PREFLIGHT_QUERY = 'vector(1)';

export class AnalysisRunner {
  /** When each address last answered the test query (epoch ms). */
  private readonly answeredAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    /** Shared by every release: results are keyed by query and evaluation time, so a round shares its queries. */
    private readonly querier: MetricsQuerier,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async run(plan: AnalysisPlan, t: AnalysisTarget, at: Date): Promise<AnalysisRound> {
    const [measurements, sequential] = await Promise.all([this.measure(plan, t, at), plan.sequential.length > 0 ? this.count(plan, t, at) : undefined]);
    const results = evaluateGates(plan, measurements, { stable: t.stableSubset, canary: t.canarySubset });
    return { evaluatedAt: at, measuredFrom: measuredFromOf(plan, at, sequential?.from), results, verdict: roundVerdict(results), ...(sequential ? { sequential } : {}) };
  }

  /** The sequential gates' counts over (from, at]: requests and 5xx, the duration histogram, and stable's history while a boundary is missing. */
  async count(plan: AnalysisPlan, t: AnalysisTarget, at: Date): Promise<SequentialMeasurements> {
    const from = t.counting?.from ?? new Date(at.getTime() - plan.intervalMs);
    const window = toPromDuration(`${Math.max(1, at.getTime() - from.getTime())}ms`) as string;
    const { canary, stable } = workloadsOf(plan, t);
    const queries: Record<string, string> = {};
    for (const g of plan.sequential) {
      queries[g.name] = g.kind === 'errors' ? sequentialErrorsQuery(canary, stable, window) : sequentialLatencyQuery(canary, stable, window);
    }
    const m: SequentialMeasurements = { from, queries };
    const setup = setupProblem(plan, t);
    const fail = (message: string): Measured<never> => ({ ok: false, message });
    const needs = (kind: 'errors' | 'slow') => plan.sequential.some((g) => g.kind === kind);
    if (setup) {
      if (needs('errors')) m.requests = fail(setup);
      if (needs('slow')) m.histograms = fail(setup);
      return m;
    }
    const ask = (promql: string, when: Date) => this.querier.query(plan.address as string, promql, plan.timeoutMs, when);
    const pending: Promise<void>[] = [];
    if (needs('errors')) {
      pending.push(ask(requestCountsQuery(window, canary.reporter, servicesOf(t)), at).then((r) => {
        if (!r.ok) return void (m.requests = fail(r.message));
        const c = requestStats(r.samples, canary);
        const s = requestStats(r.samples, stable);
        m.requests = { ok: true, value: { canary: { total: c.total, errors: c.serverErrors }, stable: { total: s.total, errors: s.serverErrors } } };
      }));
    }
    if (needs('slow')) {
      pending.push(ask(durationBucketsQuery(window, canary.reporter, servicesOf(t)), at).then((r) => {
        m.histograms = r.ok ? { ok: true, value: { canary: bucketCounts(r.samples, canary), stable: bucketCounts(r.samples, stable) } } : fail(r.message);
      }));
    }
    if (plan.sequential.some((g) => g.kind === 'slow' && t.counting?.boundariesMs[g.name] === undefined && g.boundaryMs === undefined)) {
      pending.push(ask(durationBucketsQuery(BOUNDARY_HISTORY, stable.reporter, servicesOf(t)), from).then((r) => {
        m.stableHistory = r.ok ? { ok: true, value: bucketCounts(r.samples, stable) } : fail(r.message);
      }));
    }
    await Promise.all(pending);
    return m;
  }

  /** The checks made before the first traffic move: the version label on both subsets, and one answered query. */
  async preflight(plan: AnalysisPlan, t: AnalysisTarget): Promise<PreflightResult> {
    const setup = setupProblem(plan, t);
    if (setup) return { ok: false, message: setup };
    // Evaluated now, so the shared cache cannot hand back an older answer: the time kept is a real round trip's.
    const r = await this.querier.query(plan.address as string, PREFLIGHT_QUERY, plan.timeoutMs, new Date(this.now()));
    // The latest answer counts: a failure after a success leaves no recent answer to lean on.
    if (r.ok) this.answeredAt.set(plan.address as string, this.now());
    else this.answeredAt.delete(plan.address as string);
    return r.ok ? { ok: true } : { ok: false, message: `Prometheus at ${plan.address} (spec.analysis.prometheus.address) did not answer a test query: ${r.message}` };
  }

  /**
   * The preflight without a query when that is enough (AnalysisProvider.preflightFromRecent): a burst of new
   * releases against one Prometheus asks it once, and the releases after the first take their first step in
   * their first reconcile instead of writing Pending and waiting for a check whose answer is already known.
   */
  preflightFromRecent(plan: AnalysisPlan, t: AnalysisTarget, maxAgeMs: number): PreflightResult | undefined {
    const setup = setupProblem(plan, t);
    if (setup) return { ok: false, message: setup };
    const at = this.answeredAt.get(plan.address as string);
    if (at === undefined) return undefined;
    // A clock stepped back makes the age negative: that answer's age is unknown, so it is no evidence.
    const age = this.now() - at;
    return age >= 0 && age < maxAgeMs ? { ok: true } : undefined;
  }

  async measure(plan: AnalysisPlan, t: AnalysisTarget, at: Date): Promise<ReleaseMeasurements> {
    const window = plan.window;
    const { canary, stable } = workloadsOf(plan, t);
    const queries: Record<string, string> = {};
    const fail = (message: string): Measured<never> => ({ ok: false, message });
    const m: ReleaseMeasurements = { requests: fail('not measured'), latency: {}, custom: {}, queries };

    const setup = setupProblem(plan, t);
    for (const g of plan.gates) {
      if (g.sequential) continue;
      const rendered = g.query !== undefined ? renderQueryTemplate(g.query, { ...canary, stableVersion: stable.version, window }) : undefined;
      queries[g.name] = describeGateQuery(g, canary, window, rendered?.ok ? rendered.promql : undefined);
    }
    if (setup) {
      m.requests = fail(setup);
      for (const g of plan.gates) {
        if (g.latency) m.latency[g.name] = fail(setup);
        if (g.query !== undefined) m.custom[g.name] = fail(setup);
      }
      return m;
    }
    const address = plan.address as string;
    const ask = (promql: string): Promise<QueryResult> => this.querier.query(address, promql, plan.timeoutMs, at);

    const services = servicesOf(t);
    const needsRequests = plan.gates.some((g) => g.errorRate || g.latency);
    const pending: Promise<void>[] = [];
    if (needsRequests) {
      pending.push(ask(requestCountsQuery(window, t.reporter, services)).then((r) => {
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
    for (const g of plan.gates) {
      if (g.latency) {
        const name = g.name;
        const percentile = g.latency.percentile;
        let sent = latencyByPercentile.get(percentile);
        if (!sent) latencyByPercentile.set(percentile, (sent = ask(latencyQuery(percentile, window, t.reporter, services))));
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

/** Where a round's measurements begin: the earlier of its window (with windowed gates) and its sequential batch. */
export function measuredFromOf(plan: AnalysisPlan, at: Date, batchFrom: Date | undefined): Date {
  const windowStart = plan.gates.some((g) => !g.sequential) ? at.getTime() - plan.windowMs : Number.POSITIVE_INFINITY;
  return new Date(Math.min(windowStart, batchFrom?.getTime() ?? at.getTime() - plan.windowMs));
}

/** Both versions' series, read from the reporter the release uses. */
function workloadsOf(plan: AnalysisPlan, t: AnalysisTarget): { canary: Workload; stable: Workload } {
  return {
    canary: { ...workloadOf(plan, t.namespace, t.canary, t.canarySubset), reporter: t.reporter },
    stable: { ...workloadOf(plan, t.namespace, t.stable, t.stableSubset), reporter: t.reporter },
  };
}

/** The Services the grouped queries read: every running release's, and this release's own for certain. */
function servicesOf(t: AnalysisTarget): readonly string[] {
  const own = [t.stable.service, t.canary.service];
  const watched = t.watched ?? [];
  return own.every((s) => watched.includes(s)) ? watched : [...new Set([...watched, ...own])].sort();
}

/** A version's series: by Service and destination_version (an Istio subset), or by its own Service (Gateway API). */
function workloadOf(plan: AnalysisPlan, namespace: string, w: WorkloadRef, name: string): Workload {
  if (w.identifiedBy === 'service') return { namespace, service: w.service };
  return { namespace, service: w.service, version: w.labels[plan.versionLabel] ?? name };
}

/** What makes every query of this release pointless: no address, or subsets without the version label. */
function setupProblem(plan: AnalysisPlan, t: AnalysisTarget): string | undefined {
  if (!plan.address) return "no Prometheus address: set spec.analysis.prometheus.address or the operator's PROMETHEUS_ADDRESS";
  for (const [subset, w] of [[t.canarySubset, t.canary], [t.stableSubset, t.stable]] as const) {
    if (w.identifiedBy === 'version' && w.labels[plan.versionLabel] === undefined) {
      return `spec.analysis.versionLabel: DestinationRule subset "${subset}" has no "${plan.versionLabel}" label to match Istio's destination_version; add the label to the subset or set spec.analysis.versionLabel to a label both subsets carry`;
    }
  }
  return undefined;
}
