// One reconcile: re-read the release and the world, decide, then apply the
// decision in a crash-safe order: finalizer, traffic, status, Events. Every
// write happens only when something changed.
import type { Logger } from 'pino';
import { decide, type Decision, type Observations } from '../core/decide.js';
import { deepEqual } from '../util/deep-equal.js';
import type { CanaryReleaseObject, CanaryWorkloadProbe, EventRecorder, ReleaseStore, TrafficRouter } from './ports.js';
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
  clock?: () => Date;
  /** Told after each applied decision (metrics). */
  onDecision?: (release: CanaryReleaseObject, decision: Decision) => void;
}

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    let release = this.deps.store.get(namespace, name);
    if (!release) return {};
    const snap = toSnapshot(release);
    const target = trafficTarget(release, snap);
    const obs: Observations = {};
    if (target) {
      const seen = this.deps.router.observe(target);
      obs.traffic = seen.traffic;
      if (seen.canaryLabels && !snap.deleting) obs.canary = this.deps.probe.check(namespace, target.service, seen.canaryLabels);
    }
    const decision = decide(snap, obs, this.deps.clock?.() ?? new Date());
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
    for (const e of decision.events) {
      log.info({ event: e.reason, type: e.type }, e.message);
      await this.deps.events.record(release, e);
    }
    this.deps.onDecision?.(release, decision);
    return { requeueAfterMs: decision.requeueAfterMs, decision };
  }
}
