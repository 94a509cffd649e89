// One reconcile: re-read the release and the world, decide, then apply the
// decision intent first: finalizer, status, traffic, Events. The status
// records what the route must become before the route is written, so a crash
// or a failed write between the two is finished by the next reconcile (the
// route still at the revision the status names is the operator's own pending
// write, never someone else's drift), and a conflicting status write leaves
// nothing done, to be decided again on fresh state. Every write happens only
// when something changed.
import type { Logger } from 'pino';
import { isActive } from '../api/conditions.js';
import { decide, effectiveTarget, type Decision, type Observations } from '../core/decide.js';
import { roundDue } from '../core/analysis-rules.js';
import { describeRoute } from '../core/plan.js';
import { onlyRoundNoise } from '../core/round-noise.js';
import { reporterFor } from '../traffic/dataplane.js';
import { countingFor } from '../core/sequential-counting.js';
import { deepEqual } from '../util/deep-equal.js';
import type { AnalysisRounds } from '../analysis/round-scheduler.js';
import type { WatchedServices } from '../analysis/watched-services.js';
import type { AnalysisTarget } from '../analysis/analysis-runner.js';
import type { CanaryReleaseObject, EventRecorder, ReleaseStore, TrafficRouter, TrafficTarget, WorkloadProbe } from './ports.js';
import { restoreTarget, toSnapshot, trafficTarget, trafficTargetOf } from './snapshot.js';
import { routeOwner } from './route-ownership.js';
import type { AnalysisContext } from '../api/validate-analysis.js';
import type { CanaryReleaseStatus } from '../api/status.js';

export interface ReconcileResult {
  requeueAfterMs?: number | undefined;
  decision?: Decision;
}

export interface ReconcilerDeps {
  store: ReleaseStore;
  router: TrafficRouter;
  probe: WorkloadProbe;
  events: EventRecorder;
  log: Logger;
  /** Analysis rounds and preflights (run beside the workers); without it, releases with gates hold before their first step. */
  analysis?: AnalysisRounds | undefined;
  /** The Services of running releases, which the grouped queries read (and nothing else). */
  watched?: WatchedServices | undefined;
  /** The operator's settings that validation needs (default Prometheus address, allowed addresses). */
  validation?: AnalysisContext;
  clock?: () => Date;
  /** Told after each applied decision, with the release as it was before (metrics). */
  onDecision?: (release: CanaryReleaseObject, decision: Decision) => void;
}

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    let release = this.deps.store.get(namespace, name);
    if (!release) {
      this.deps.analysis?.forget(key);
      this.deps.watched?.delete(key);
      return {};
    }
    const original = release;
    const snap = toSnapshot(release, this.deps.validation);
    const now = this.deps.clock?.() ?? new Date();
    const target = trafficTarget(snap);
    const obs = this.observe(key, release, snap, target, now);
    const decision = decide(snap, obs, now);
    // A release that ends here is no longer measured: the next rounds of the others stop reading its Services.
    // So is a deleted one (waiting to write its last route write, it is not measured either).
    if (snap.deleting || decision.finalizer === 'remove' || (decision.status.phase !== undefined && !isActive(decision.status.phase))) this.deps.watched?.delete(key);
    const log = this.deps.log.child({ release: key });

    if (decision.finalizer === 'add') release = await this.deps.store.addFinalizer(release);
    if (decision.finalizer === 'remove') {
      await this.writeTraffic(decision, target, namespace, log);
      await this.deps.store.removeFinalizer(release);
      log.info('finalizer removed');
      await this.told(original, release, decision, log);
      return { requeueAfterMs: decision.requeueAfterMs, decision };
    }
    const before = (release.status ?? {}) as CanaryReleaseStatus;
    if (!deepEqual(before, decision.status) && !onlyRoundNoise(snap.status, decision.status, now)) {
      release = await this.deps.store.writeStatus(release, decision.status);
      // A round the status now records is no evidence any more (a round written off as noise stays: the next look
      // weighs it again), and the next one is not due before the next interval.
      const recorded = Date.parse(decision.status.analysis?.evaluatedAt ?? '');
      if (Number.isFinite(recorded)) this.deps.analysis?.recorded(key, new Date(recorded));
      log.info({ phase: decision.status.phase, step: decision.status.currentStep, canaryWeight: decision.status.canaryWeight }, decision.status.message ?? 'status updated');
    }
    // The decision is recorded: its Events and metrics follow even if the route write fails (the next look finishes it).
    try {
      await this.writeTraffic(decision, target, namespace, log);
    } finally {
      await this.told(original, release, decision, log);
    }
    return { requeueAfterMs: decision.requeueAfterMs, decision };
  }

  private async told(original: CanaryReleaseObject, release: CanaryReleaseObject, decision: Decision, log: Logger): Promise<void> {
    this.deps.onDecision?.(original, decision);
    // One after another: Events carry second-precision timestamps, and sent together their order is lost for
    // `kubectl describe` and `kubectl canary status` (a Started Event must come before a Warning decided with it).
    for (const e of decision.events) {
      log.info({ event: e.reason, type: e.type }, e.message);
      await this.deps.events.record(release, e);
    }
  }

  private observe(key: string, release: CanaryReleaseObject, snap: ReturnType<typeof toSnapshot>, target: TrafficTarget | undefined, now: Date): Observations {
    const obs: Observations = {};
    const restore = restoreTarget(snap);
    if (restore) obs.restoreRoute = this.deps.router.observe(restore).route;
    if (!target) return obs;
    const seen = this.deps.router.observe(target);
    obs.route = seen.route;
    const workloads = seen.workloads;
    if (snap.deleting) return obs;
    if (seen.conflicts?.length) obs.conflicts = seen.conflicts;
    if (workloads) {
      obs.canary = this.deps.probe.check(target.namespace, workloads.canary);
      obs.stable = this.deps.probe.check(target.namespace, workloads.stable);
    }
    const st = snap.status;
    const ref = effectiveTarget(snap);
    const terminal = st.phase !== undefined && !isActive(st.phase);
    // A finished release asks for no round or preflight (roundDue): its last ones, a few KiB each, are let go
    // (a thousand finished releases would keep them for good). A retry measures afresh.
    if (terminal) this.deps.analysis?.forget(key);
    // Asked for a finished release too: a retry in this decision must not skip the check.
    if (ref) obs.owner = routeOwner(release, ref, this.deps.store.list(target.namespace), now);
    const plan = snap.plan.ok ? snap.plan.plan : undefined;
    const analysis = plan?.analysis;
    const rounds = this.deps.analysis;
    if (!analysis || !workloads || !rounds || obs.owner) return obs;
    if (terminal) this.deps.watched?.delete(key);
    else this.deps.watched?.set(key, [workloads.stable.service, workloads.canary.service], analysis.roundOffsetMs);
    const at: AnalysisTarget = {
      namespace: target.namespace, stableSubset: target.stable, canarySubset: target.canary, stable: workloads.stable, canary: workloads.canary,
      reporter: reporterFor(analysis.reporter, seen.dataplane), watched: this.deps.watched?.list(analysis.roundOffsetMs),
    };
    const due = roundDue(analysis, st, now);
    if (due) {
      obs.analysis = rounds.round(key, analysis, { ...at, counting: countingFor(analysis, st, due) }, due);
      this.deps.log.debug({ release: key, round: due.toISOString(), ready: obs.analysis !== undefined }, 'analysis round due');
    }
    const beforeFirstMove = !terminal && (st.canaryWeight ?? 0) === 0 && (st.currentStep ?? 0) === 0;
    if (beforeFirstMove && seen.route.ok) obs.preflight = rounds.preflight(key, analysis, at);
    return obs;
  }

  /**
   * The traffic writes of a decision, after its status and read from it: a
   * replaced release's route first, then the release's own.
   */
  private async writeTraffic(decision: Decision, observed: TrafficTarget | undefined, namespace: string, log: Logger): Promise<void> {
    const st = decision.status;
    const restore = st.restore && trafficTargetOf(namespace, st.restore.target, st.restore.stableSubset, st.restore.canarySubset);
    const target = st.target && st.stableSubset && st.canarySubset ? trafficTargetOf(namespace, st.target, st.stableSubset, st.canarySubset) : observed;
    if (decision.restoreStable && restore) {
      const outcome = await this.deps.router.setCanaryPercent(restore, 0);
      log.info({ restored: describeRoute(restore.ref), stable: restore.stable, outcome }, 'replaced release returned to stable');
    }
    if (decision.setCanaryPercent !== undefined && target) {
      const outcome = await this.deps.router.setCanaryPercent(target, decision.setCanaryPercent);
      log.info({ canaryWeight: decision.setCanaryPercent, stable: target.stable, canary: target.canary, outcome }, 'traffic set');
    }
  }
}
