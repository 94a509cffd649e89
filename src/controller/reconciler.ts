// One reconcile: re-read the release and the world, decide, then apply the
// decision in a crash-safe order: finalizer, traffic, status, Events. Every
// write happens only when something changed.
import type { Logger } from 'pino';
import { decide, type Decision, type Observations } from '../core/decide.js';
import { deepEqual } from '../util/deep-equal.js';
import { Phase } from '../api/conditions.js';
import { analysisDue } from '../core/analysis-rules.js';
import type { AnalysisProvider, CanaryReleaseObject, CanaryWorkloadProbe, EventRecorder, ReleaseStore, TrafficRouter } from './ports.js';
import { toSnapshot, trafficTarget } from './snapshot.js';

export interface ReconcileResult {
  requeueAfterMs?: number | undefined;
  decision?: Decision;
}

export interface ReconcilerDeps {
  store: ReleaseStore;
  router: TrafficRouter;
  probe: CanaryWorkloadProbe;
  events: EventRecorder;
  log: Logger;
  /** Gate evaluation; without it, releases with spec.analysis hold at their first step. */
  analysis?: AnalysisProvider | undefined;
  defaultPrometheusAddress?: string | undefined;
  clock?: () => Date;
  /** Told after each applied decision, with the release as it was before (metrics). */
  onDecision?: (release: CanaryReleaseObject, decision: Decision) => void;
}

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    let release = this.deps.store.get(namespace, name);
    if (!release) return {};
    const original = release;
    const snap = toSnapshot(release, { defaultPrometheusAddress: this.deps.defaultPrometheusAddress });
    const target = trafficTarget(release, snap);
    const obs: Observations = {};
    const now = this.deps.clock?.() ?? new Date();
    if (target) {
      const seen = this.deps.router.observe(target);
      obs.traffic = seen.traffic;
      const labels = seen.subsetLabels;
      if (labels && !snap.deleting) obs.canary = this.deps.probe.check(namespace, target.service, labels.canary);
      const analysis = snap.spec.ok ? snap.spec.spec.analysis : undefined;
      const st = snap.status;
      if (analysis && labels && this.deps.analysis && !snap.deleting && seen.traffic.ok
        && st.phase === Phase.Progressing && (st.canaryWeight ?? 0) > 0 && analysisDue(analysis, st.analysis, now)) {
        obs.analysis = await this.deps.analysis.run(analysis, {
          namespace, service: target.service, stableSubset: target.stableSubset, canarySubset: target.canarySubset,
          stableLabels: labels.stable, canaryLabels: labels.canary,
        });
      }
    }
    const decision = decide(snap, obs, now);
    const log = this.deps.log.child({ release: key });

    if (decision.finalizer === 'add') release = await this.deps.store.addFinalizer(release);
    if (decision.setCanaryPercent !== undefined && target) {
      const outcome = await this.deps.router.setCanaryPercent(target, decision.setCanaryPercent);
      log.info({ canaryWeight: decision.setCanaryPercent, stable: target.stableSubset, canary: target.canarySubset, outcome }, 'traffic set');
    }
    if (decision.finalizer === 'remove') {
      await this.deps.store.removeFinalizer(release);
      log.info('finalizer removed');
    } else if (!deepEqual(release.status ?? {}, decision.status)) {
      release = await this.deps.store.writeStatus(release, decision.status);
      log.info({ phase: decision.status.phase, step: decision.status.currentStep, canaryWeight: decision.status.canaryWeight }, decision.status.message ?? 'status updated');
    }
    this.deps.onDecision?.(original, decision);
    for (const e of decision.events) {
      log.info({ event: e.reason, type: e.type }, e.message);
      await this.deps.events.record(release, e);
    }
    return { requeueAfterMs: decision.requeueAfterMs, decision };
  }
}
