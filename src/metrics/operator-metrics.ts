// The operator's own Prometheus metrics. Labels are bounded: phases, outcomes,
// reasons and verdicts are fixed sets; per-release series carry the
// namespace/name of existing releases only and are deleted with the release.
// The per-release gauges are kept rendered (rendered-gauges.ts): /metrics is
// the registry's text followed by releaseSeriesText().
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { GateVerdict } from '../api/analysis-status.js';
import { PHASES } from '../api/conditions.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { ControllerHooks } from '../controller/controller.js';
import type { CanaryReleaseObject } from '../controller/ports.js';
import type { Decision } from '../core/decide.js';
import { RenderedGaugeFamily, type Sample } from './rendered-gauges.js';

/** What a release's series show: its last decided weight and drift, and each gate's last value and verdict. */
interface ReleaseValues {
  namespace: string;
  name: string;
  canaryWeight: number;
  drifted: boolean;
  /** Gates seen in any decision of the release, in the order first seen. */
  gates: Map<string, { value?: number; verdict: GateVerdict }>;
}

export class OperatorMetrics {
  readonly reconciles: Counter<'outcome'>;
  readonly reconcileDuration: Histogram<'outcome'>;
  readonly queueDepth: Gauge;
  readonly releases: Gauge<'phase'>;
  readonly canaryWeight = new RenderedGaugeFamily('canary_operator_canary_weight', 'Percent of the managed route on the canary, per release.', ['namespace', 'name']);
  readonly routeDrift = new RenderedGaugeFamily(
    'canary_operator_route_drift', '1 while the route of a finished release differs from what the release left (RouteInSync False), else 0.', ['namespace', 'name'],
  );
  readonly gateValue = new RenderedGaugeFamily(
    'canary_operator_gate_value', 'Last measured value of each gate (error rates in percent, latencies in ms).', ['namespace', 'name', 'gate'],
  );
  readonly gateVerdict = new RenderedGaugeFamily(
    'canary_operator_gate_verdict', '1, labelled with the last verdict of each gate (Pass, Fail, Inconclusive, Error, Judging); no series for the other verdicts.',
    ['namespace', 'name', 'gate', 'verdict'],
  );
  readonly promotions: Counter<'reason'>;
  readonly rollbacks: Counter<'reason'>;
  readonly queryDuration: Histogram<'outcome'>;
  readonly queryErrors: Counter<'kind'>;
  readonly informerRestarts: Counter<'informer'>;
  readonly leader: Gauge;
  private readonly valuesOf = new Map<string, ReleaseValues>();

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
    const key = `${namespace}/${name}`;
    if (d.finalizer === 'remove') return this.forget(key);
    const values = this.valuesOf.get(key) ?? { namespace, name, canaryWeight: 0, drifted: false, gates: new Map() };
    this.valuesOf.set(key, values);
    values.canaryWeight = d.status.canaryWeight ?? 0;
    values.drifted = d.status.conditions?.some((c) => c.type === 'RouteInSync' && c.status === 'False') ?? false;
    for (const g of d.status.analysis?.gates ?? []) {
      // A gate keeps its last measured value through rounds that measured none.
      const value = g.value ?? values.gates.get(g.name)?.value;
      values.gates.set(g.name, value === undefined ? { verdict: g.verdict } : { value, verdict: g.verdict });
    }
    this.render(key, values);
    const ended = d.status.phase !== before?.phase || before?.stableSubset !== d.status.stableSubset;
    const reason = d.status.conditions?.find((c) => c.type === 'Progressing')?.reason ?? 'unknown';
    if (ended && d.status.phase === 'Succeeded') this.promotions.inc({ reason });
    if (ended && d.status.phase === 'RolledBack') this.rollbacks.inc({ reason });
  }

  /** A release's series from its values; only the verdict a gate has gets a series (8 series a release, not 17). */
  private render(key: string, v: ReleaseValues): void {
    const { namespace, name } = v;
    this.canaryWeight.set(key, [[[namespace, name], v.canaryWeight]]);
    this.routeDrift.set(key, [[[namespace, name], v.drifted ? 1 : 0]]);
    const values: Sample[] = [];
    const verdicts: Sample[] = [];
    for (const [gate, g] of v.gates) {
      if (g.value !== undefined) values.push([[namespace, name, gate], g.value]);
      verdicts.push([[namespace, name, gate, g.verdict], 1]);
    }
    this.gateValue.set(key, values);
    this.gateVerdict.set(key, verdicts);
  }

  /** Drops the per-release series of a deleted release. */
  forget(key: string): void {
    this.valuesOf.delete(key);
    for (const family of this.releaseFamilies()) family.delete(key);
  }

  private releaseFamilies(): RenderedGaugeFamily[] {
    return [this.canaryWeight, this.routeDrift, this.gateValue, this.gateVerdict];
  }

  /** The per-release gauges in the text format; /metrics serves it after the registry's own text. */
  releaseSeriesText(): string {
    return this.releaseFamilies().map((f) => f.text()).join('');
  }
}
