// The operator's own Prometheus metrics. Labels are bounded: phases, outcomes,
// reasons and verdicts are fixed sets; per-release series carry the
// namespace/name of existing releases only and are deleted with the release.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { GateVerdict } from '../api/analysis-status.js';
import { PHASES } from '../api/conditions.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { ControllerHooks } from '../controller/controller.js';
import type { CanaryReleaseObject } from '../controller/ports.js';
import type { Decision } from '../core/decide.js';

const VERDICTS = Object.values(GateVerdict);

export class OperatorMetrics {
  readonly reconciles: Counter<'outcome'>;
  readonly reconcileDuration: Histogram<'outcome'>;
  readonly queueDepth: Gauge;
  readonly releases: Gauge<'phase'>;
  readonly canaryWeight: Gauge<'namespace' | 'name'>;
  readonly routeDrift: Gauge<'namespace' | 'name'>;
  readonly gateValue: Gauge<'namespace' | 'name' | 'gate'>;
  readonly gateVerdict: Gauge<'namespace' | 'name' | 'gate' | 'verdict'>;
  readonly promotions: Counter<'reason'>;
  readonly rollbacks: Counter<'reason'>;
  readonly queryDuration: Histogram<'outcome'>;
  readonly queryErrors: Counter<'kind'>;
  readonly informerRestarts: Counter<'informer'>;
  readonly leader: Gauge;
  /** Gate names with series per release, so a deleted release's series can be removed. */
  private readonly gatesOf = new Map<string, Set<string>>();

  constructor(registry: Registry, listReleases: () => ReadonlyArray<CanaryReleaseObject>, queueDepth: () => number) {
    const registers = [registry];
    this.reconciles = new Counter({ name: 'canary_operator_reconcile_total', help: 'Reconciles by outcome (ok, conflict, error).', labelNames: ['outcome'], registers });
    this.reconcileDuration = new Histogram({
      name: 'canary_operator_reconcile_duration_seconds', help: 'Time one reconcile took.', labelNames: ['outcome'], registers,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.queueDepth = new Gauge({ name: 'canary_operator_queue_depth', help: 'Releases waiting in the work queue.', registers, collect() { this.set(queueDepth()); } });
    this.releases = new Gauge({
      name: 'canary_operator_releases', help: 'CanaryReleases by phase.', labelNames: ['phase'], registers,
      collect() {
        const counts = new Map<string, number>(PHASES.map((p) => [p, 0]));
        for (const r of listReleases()) {
          const phase = (r.status as CanaryReleaseStatus | undefined)?.phase ?? 'Pending';
          counts.set(phase, (counts.get(phase) ?? 0) + 1);
        }
        for (const [phase, n] of counts) this.set({ phase }, n);
      },
    });
    this.canaryWeight = new Gauge({ name: 'canary_operator_canary_weight', help: 'Percent of the managed route on the canary, per release.', labelNames: ['namespace', 'name'], registers });
    this.routeDrift = new Gauge({
      name: 'canary_operator_route_drift', help: '1 while the route of a finished release differs from what the release left (RouteInSync False), else 0.',
      labelNames: ['namespace', 'name'], registers,
    });
    this.gateValue = new Gauge({ name: 'canary_operator_gate_value', help: 'Last measured value of each gate (error rates in percent, latencies in ms).', labelNames: ['namespace', 'name', 'gate'], registers });
    this.gateVerdict = new Gauge({ name: 'canary_operator_gate_verdict', help: '1, labelled with the last verdict of each gate (Pass, Fail, Inconclusive, Error, Judging); no series for the other verdicts.', labelNames: ['namespace', 'name', 'gate', 'verdict'], registers });
    this.promotions = new Counter({ name: 'canary_operator_promotions_total', help: 'Releases promoted, by reason (Promoted, ManualPromotion).', labelNames: ['reason'], registers });
    this.rollbacks = new Counter({ name: 'canary_operator_rollbacks_total', help: 'Releases rolled back, by reason (AnalysisFailed, Aborted, CanaryUnavailable, ...).', labelNames: ['reason'], registers });
    this.queryDuration = new Histogram({
      name: 'canary_operator_prometheus_query_duration_seconds', help: 'Prometheus queries sent by the analysis, by outcome (ok, error).', labelNames: ['outcome'], registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.queryErrors = new Counter({ name: 'canary_operator_prometheus_query_errors_total', help: 'Failed Prometheus queries by kind (unreachable, timeout, http, promql, bad-response).', labelNames: ['kind'], registers });
    this.informerRestarts = new Counter({ name: 'canary_operator_informer_restarts_total', help: 'Watches restarted after an error, per informer.', labelNames: ['informer'], registers });
    this.leader = new Gauge({ name: 'canary_operator_leader', help: '1 while this replica holds the leader lease (or runs without leader election).', registers });
  }

  /** The controller's hooks, feeding these metrics. */
  hooks(): ControllerHooks {
    return {
      reconciled: (ms, outcome) => {
        this.reconciles.inc({ outcome });
        this.reconcileDuration.observe({ outcome }, ms / 1000);
      },
      decided: (release, decision) => this.decided(release, decision),
      informerRestarted: (informer) => this.informerRestarts.inc({ informer }),
      releaseDeleted: (key) => this.forget(key),
    };
  }

  private decided(release: CanaryReleaseObject, d: Decision): void {
    const namespace = release.metadata?.namespace ?? '';
    const name = release.metadata?.name ?? '';
    const before = release.status as CanaryReleaseStatus | undefined;
    if (d.finalizer === 'remove') return this.forget(`${namespace}/${name}`);
    this.canaryWeight.set({ namespace, name }, d.status.canaryWeight ?? 0);
    const drifted = d.status.conditions?.some((c) => c.type === 'RouteInSync' && c.status === 'False') ?? false;
    this.routeDrift.set({ namespace, name }, drifted ? 1 : 0);
    const gates = this.gatesOf.get(`${namespace}/${name}`) ?? new Set<string>();
    this.gatesOf.set(`${namespace}/${name}`, gates);
    for (const g of d.status.analysis?.gates ?? []) {
      gates.add(g.name);
      if (g.value !== undefined) this.gateValue.set({ namespace, name, gate: g.name }, g.value);
      // Only the verdict the gate has: one series per gate, not one per possible verdict (17 series a release
      // became 8; at 1,000 releases that is 9,000 fewer to keep and render on every scrape).
      for (const v of VERDICTS) if (v !== g.verdict) this.gateVerdict.remove({ namespace, name, gate: g.name, verdict: v });
      this.gateVerdict.set({ namespace, name, gate: g.name, verdict: g.verdict }, 1);
    }
    const ended = d.status.phase !== before?.phase || before?.stableSubset !== d.status.stableSubset;
    const reason = d.status.conditions?.find((c) => c.type === 'Progressing')?.reason ?? 'unknown';
    if (ended && d.status.phase === 'Succeeded') this.promotions.inc({ reason });
    if (ended && d.status.phase === 'RolledBack') this.rollbacks.inc({ reason });
  }

  /** Drops the per-release series of a deleted release. */
  forget(key: string): void {
    const [namespace = '', name = ''] = key.split('/');
    this.canaryWeight.remove({ namespace, name });
    this.routeDrift.remove({ namespace, name });
    for (const gate of this.gatesOf.get(key) ?? []) {
      this.gateValue.remove({ namespace, name, gate });
      for (const verdict of VERDICTS) this.gateVerdict.remove({ namespace, name, gate, verdict });
    }
    this.gatesOf.delete(key);
  }
}
