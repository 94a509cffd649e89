// Accumulates one decision of decide(): each method is one rule (start, hold,
// step, roll back, ...) that edits the status, the traffic to write and the
// Events, and done() returns the result with its requeue time clamped.
import { GateVerdict, type GateResult } from '../api/analysis-status.js';
import { ConditionType, Phase, Reason, isActive, isTerminal } from '../api/conditions.js';
import { REQUEST_ANNOTATIONS, type RequestKind } from '../api/names.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import { firstRoundForStep, holdMessage, summarize, untilNextRound, type RoundOutcome } from './analysis-rules.js';
import { findCondition, setConditions, type ConditionUpdate } from './conditions.js';
import type { Observations, ReleaseSnapshot, RouteOwner } from './decide.js';
import { formatDuration } from './duration.js';
import { describeRoute, type AnalysisPlan, type ReleasePlan } from './plan.js';
import { positionOf, type PlanPosition, type PlannedStep } from './steps.js';
import { summaryOf } from './summary.js';
import { clampDelay, isoOf, timeOf } from './time.js';
import { finalWriteSettled, ownWritePending } from './own-write.js';
import type { RouteObservation, RouteView, WorkloadState } from './traffic.js';

export interface DecisionEvent {
  type: 'Normal' | 'Warning';
  reason: Reason;
  message: string;
}

export interface Decision {
  status: CanaryReleaseStatus;
  /** Canary percent to write on the route of the release in effect (after the status). */
  setCanaryPercent?: number | undefined;
  /** Return the route of status.restore (a replaced release) to 100% stable. */
  restoreStable?: boolean | undefined;
  events: DecisionEvent[];
  /** When to look again, within [100 ms, 24 days]; undefined: only on a change. */
  requeueAfterMs?: number | undefined;
  finalizer?: 'add' | 'remove' | undefined;
}

const UNROUTABLE_RETRY_MS = 30_000;
const RESTAMP_AFTER_MS = 1000;
const WORKLOAD_POLL_MS = 15_000;
const PREFLIGHT_RETRY_MS = 10_000;
/**
 * How long after its creation a new release may stay unwritten while its
 * preflight is asked (bounded by the object's creationTimestamp, so neither
 * a restart nor a slow answer stretches it). Its first status write is then
 * its first step, not a Pending one that the step replaces a moment later.
 */
export const FIRST_WRITE_WAIT_MS = 2000;

/** A status the operator never wrote (a new object, or one created with request annotations only). */
export function isFresh(status: CanaryReleaseStatus): boolean {
  return status.phase === undefined && status.stableSubset === undefined && status.handledRequests === undefined;
}

export class DecisionBuilder {
  readonly status: CanaryReleaseStatus;
  readonly events: DecisionEvent[] = [];
  private readonly updates: ConditionUpdate[] = [];
  private readonly dropped = new Set<string>();
  setCanaryPercent: number | undefined;
  restoreStable: boolean | undefined;
  finalizer: 'add' | 'remove' | undefined;

  constructor(private readonly snap: ReleaseSnapshot, readonly now: Date) {
    this.status = structuredClone(snap.status);
    this.status.observedGeneration = snap.generation;
    pullFutureTimesToNow(this.status, now);
  }

  get nowIso(): string {
    return isoOf(this.now.getTime());
  }

  /** `kubectl canary <verb> <name> -n <namespace>`, for messages a person pastes. */
  private command(verb: string): string {
    return `kubectl canary ${verb} ${this.snap.name} -n ${this.snap.namespace}`;
  }

  event(type: DecisionEvent['type'], reason: Reason, message: string): void {
    this.events.push({ type, reason, message });
  }

  message(text: string): void {
    this.status.message = text;
  }

  condition(type: string, status: ConditionUpdate['status'], reason: Reason, message: string): void {
    this.updates.push({ type, status, reason, message });
  }

  handled(kind: RequestKind): void {
    this.status.handledRequests = { ...this.status.handledRequests, [kind]: this.snap.annotations[REQUEST_ANNOTATIONS[kind]] };
  }

  done(requeueAfterMs?: number): Decision {
    const kept = this.snap.status.conditions?.filter((c) => !this.dropped.has(c.type));
    this.status.conditions = setConditions(kept, this.updates, this.now, this.snap.generation);
    this.status.summary = summaryOf(this.status);
    return {
      status: this.status,
      setCanaryPercent: this.setCanaryPercent,
      restoreStable: this.restoreStable,
      events: this.events,
      requeueAfterMs: clampDelay(requeueAfterMs),
      finalizer: this.finalizer,
    };
  }

  /** A condition's event only when it changes, so a hold that lasts says so once. */
  private changed(type: string, status: string, message: string): boolean {
    const prev = findCondition(this.snap.status.conditions, type);
    return prev?.status !== status || prev.message !== message;
  }

  /** The Progressing and Promoted conditions that follow from the phase. */
  phaseConditions(reason: Reason, message: string): void {
    const phase = this.status.phase;
    const moving = phase === Phase.Pending || phase === Phase.Progressing;
    this.condition(ConditionType.Progressing, moving ? 'True' : 'False', reason, message);
    const promoted = phase === Phase.Succeeded;
    this.condition(ConditionType.Promoted, promoted ? 'True' : 'False', promoted ? reason : Reason.NotPromoted,
      promoted ? message : `${this.status.canarySubset ?? 'the canary'} has not been promoted`);
  }

  // ---- deletion ----------------------------------------------------------

  deletion(obs: Observations): Decision {
    const st = this.status;
    if (!this.snap.hasFinalizer) return { status: this.snap.status, events: [] };
    this.finalizer = 'remove';
    this.restorePrevious(obs.restoreRoute);
    const r = st.restore;
    const restoreRoute = obs.restoreRoute;
    if (r && restoreRoute?.view && stableUnreachable(restoreRoute) && !restoreRoute.view.isAt(0)) {
      // A replaced release's share still on its old route: as below, not onto a missing stable subset, and
      // not left behind either (no release would hold that route any more).
      return this.deletionWaits(`returning the replaced release's share (${r.canarySubset}) on ${describeRoute(r.target)} to ${r.stableSubset}`, restoreRoute);
    }
    if (isActive(st.phase) && (st.canaryWeight ?? 0) > 0) {
      const route = obs.route;
      const view = route?.view;
      // Its share goes back to stable only once stable can take it: written now, all of the route's traffic
      // would go to a subset the DestinationRule does not define. It waits as an abort does, holding the route.
      if (view && route && stableUnreachable(route) && !view.isAt(0)) {
        return this.deletionWaits(`returning ${st.canaryWeight}% from ${st.canarySubset} to ${st.stableSubset}`, route);
      }
      if (view) {
        if (!view.isAt(0)) this.setCanaryPercent = 0;
        this.event('Normal', Reason.TrafficRestored, `Deleted during the release: traffic returned to 100% ${st.stableSubset}`);
      } else {
        this.event('Warning', route && !route.ok ? route.reason : Reason.RouteNotFound,
          `Deleted during the release, but traffic could not be returned to ${st.stableSubset}: ${route && !route.ok ? route.message : 'no route'}; check the route by hand`);
      }
    } else if (isTerminal(st.phase as Phase) && st.phase !== Phase.Failed) {
      // Deleted before its final write landed (a failed write, a crash): finish it, or the route keeps
      // a share on a version no release manages, and the next release on it starts beside that share.
      const pending = pendingFinalWrite(st, obs.route);
      if (pending?.blockedBy) {
        return this.deletionWaits(`its last route write (${pending.percent}% ${st.canarySubset})`, pending.blockedBy);
      } else if (pending) {
        this.setCanaryPercent = pending.percent;
      }
    }
    return { status: this.snap.status, events: this.events, finalizer: 'remove', setCanaryPercent: this.setCanaryPercent, restoreStable: this.restoreStable };
  }

  /**
   * A deleted release whose route write cannot be made yet keeps its finalizer until it can: without it the
   * route keeps a share on a version no release manages, and the next release on the route would start beside
   * it. The route stays held meanwhile; the message says how to let it go now.
   */
  private deletionWaits(write: string, blockedBy: { reason: Reason; message: string }): Decision {
    this.finalizer = undefined;
    const text = `Deleted, but ${write} waits: ${blockedBy.message}. `
      + `It is removed once that write is made; to remove it now and leave the route as it is: `
      + `kubectl patch canaryrelease ${this.snap.name} -n ${this.snap.namespace} --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'`;
    if (this.changed(ConditionType.TrafficRoutable, 'False', text)) this.event('Warning', blockedBy.reason, text);
    this.condition(ConditionType.TrafficRoutable, 'False', blockedBy.reason, text);
    this.message(text);
    return this.done(UNROUTABLE_RETRY_MS);
  }

  // ---- spec, start and the route --------------------------------------------

  invalidSpec(problems: string): Decision {
    const st = this.status;
    const active = isActive(st.phase);
    const held = active ? ` Traffic is held at ${st.canaryWeight ?? 0}% canary until the spec is fixed.` : '';
    if (this.changed(ConditionType.SpecValid, 'False', problems)) this.event('Warning', Reason.InvalidSpec, `Invalid spec, nothing was changed: ${problems}`);
    this.condition(ConditionType.SpecValid, 'False', Reason.InvalidSpec, problems);
    this.message(`Invalid spec: ${problems}.${held}`);
    if (!this.snap.status.conditions?.some((c) => c.type === ConditionType.Promoted)) {
      this.status.phase ??= Phase.Pending;
      this.phaseConditions(Reason.InvalidSpec, 'The spec is invalid');
    }
    // Nothing else moves while the spec is invalid, not even a drifted weight: the step's clock stops too.
    if (active && (st.canaryWeight ?? 0) > 0) this.hold();
    return this.done();
  }

  specValid(): void {
    const prev = findCondition(this.snap.status.conditions, ConditionType.SpecValid);
    this.condition(ConditionType.SpecValid, 'True', Reason.SpecValid, 'The spec is valid');
    if (prev?.status === 'False') this.event('Normal', Reason.SpecValid, 'The spec is valid again');
  }

  startRelease(plan: ReleasePlan, retry = false): void {
    const st = this.status;
    // A replaced release still being restored keeps its hold on that route until it is back on stable.
    const keep: (keyof CanaryReleaseStatus)[] = ['observedGeneration', 'conditions', 'handledRequests', 'totalSteps', 'restore', ...(st.restore ? ['ownsRouteSince' as const] : [])];
    for (const k of Object.keys(st) as (keyof CanaryReleaseStatus)[]) if (!keep.includes(k)) delete st[k];
    Object.assign(st, {
      phase: Phase.Pending,
      stableSubset: plan.stable,
      canarySubset: plan.canary,
      target: structuredClone(plan.target),
      currentStep: 0,
      canaryWeight: 0,
      releaseStartedAt: this.nowIso,
      measureFrom: this.nowIso,
    });
    // The previous release's health and route state say nothing about this one.
    this.dropped.add(ConditionType.Healthy);
    this.dropped.add(ConditionType.RouteInSync);
    const what = `${plan.stable} -> ${plan.canary}`;
    this.phaseConditions(retry ? Reason.Retried : Reason.Started, `Release ${what} started`);
    this.message(`Release ${what} ${retry ? 'restarted on request' : 'started'}; checking the route and the workloads before moving traffic`);
    this.event('Normal', retry ? Reason.Retried : Reason.Started, `Release ${what} ${retry ? 'restarted on request' : 'started'}`);
  }

  /** The spec names another release while this one has traffic: its route goes back to stable first. */
  supersede(plan: ReleasePlan, route: RouteObservation | undefined): void {
    const st = this.status;
    st.restore = { target: structuredClone(st.target ?? plan.target), stableSubset: st.stableSubset as string, canarySubset: st.canarySubset as string };
    // Written now unless stable cannot take the traffic; restorePrevious() writes it once it can.
    this.restoreStable = !stableUnreachable(route);
    const was = st.target && describeRoute(st.target);
    const now = describeRoute(plan.target);
    const where = was && was !== now ? ` (${was} -> ${now})` : '';
    this.event('Normal', Reason.Superseded,
      `Release ${st.stableSubset} -> ${st.canarySubset} was replaced in the spec by ${plan.stable} -> ${plan.canary}${where}: its traffic returns to ${st.stableSubset} first`);
  }

  /**
   * Finishes returning a replaced release's route to stable; clears
   * status.restore (and the hold on that route) once it is there. Returns
   * whether the restore ended in this decision.
   */
  restorePrevious(route: RouteObservation | undefined): boolean {
    const r = this.status.restore;
    if (!r) return false;
    const view = route?.view;
    if (!view) {
      // The old route is gone, or no longer sends anything to the replaced release's subsets: nothing is left to give back.
      const gone: string[] = [Reason.VirtualServiceNotFound, Reason.RouteNotFound, Reason.NoTrafficBudget];
      if (route && !route.ok && gone.includes(route.reason)) {
        this.event('Normal', Reason.TrafficRestored,
          `The replaced release's route (${describeRoute(r.target)}) has nothing left to return: ${route.message}`);
        return this.restored();
      }
      return false;
    }
    if (view.isAt(0)) {
      this.event('Normal', Reason.TrafficRestored, `The replaced release's route (${describeRoute(r.target)}) sends 100% to ${r.stableSubset} again`);
      return this.restored();
    }
    // Not onto a stable subset the DestinationRule does not define: that would send the route's traffic nowhere.
    if (!stableUnreachable(route)) this.restoreStable = true;
    return false;
  }

  private restored(): true {
    delete this.status.restore;
    delete this.status.ownsRouteSince;
    return true;
  }

  waitForRestore(route: RouteObservation | undefined): Decision {
    const r = this.status.restore;
    const why = route && !route.ok && (!route.view || stableUnreachable(route)) ? `; its route cannot be changed yet: ${route.message}` : '';
    const text = `Waiting for the replaced release (${r?.stableSubset} -> ${r?.canarySubset}) to return its traffic to ${r?.stableSubset} before starting${why}`;
    this.phaseConditions(Reason.WaitingForRestore, text);
    this.message(text);
    return this.done(UNROUTABLE_RETRY_MS / 6);
  }

  holdForOwner(owner: RouteOwner, requests: Set<RequestKind>): Decision {
    for (const k of requests) {
      this.handled(k);
      this.event('Normal', Reason.RequestIgnored, `${k} ignored: ${owner.route} is in use by CanaryRelease ${owner.release}; this release has not moved any traffic`);
    }
    const text = `${owner.route} is managed by CanaryRelease ${owner.release} (${owner.description}); this release waits and starts by itself when that one ends or is deleted`;
    if (this.changed(ConditionType.TrafficRoutable, 'False', text)) this.event('Normal', Reason.RouteInUse, text);
    this.condition(ConditionType.TrafficRoutable, 'False', Reason.RouteInUse, text);
    this.phaseConditions(Reason.RouteInUse, text);
    const w = this.status.canaryWeight ?? 0;
    this.message(w > 0 ? `Holding, writing nothing, with ${w}% still on ${this.status.canarySubset}: ${text}` : `Holding at 0%: ${text}`);
    return this.done();
  }

  routable(): void {
    const prev = findCondition(this.snap.status.conditions, ConditionType.TrafficRoutable);
    this.condition(ConditionType.TrafficRoutable, 'True', Reason.Routable, 'The managed route was found');
    if (prev?.status === 'False' && prev.reason !== Reason.RouteInUse) this.event('Normal', Reason.Routable, 'The managed route can be used again');
  }

  /** Another provider's route for the same Service: said once in an Event, kept in a condition, never blocking. */
  conflicts(conflicts: string[] | undefined): void {
    const prev = findCondition(this.snap.status.conditions, ConditionType.RouteConflict);
    if (!conflicts?.length) {
      if (prev?.status === 'True') this.condition(ConditionType.RouteConflict, 'False', Reason.NoConflictingRoutes, 'No other provider routes this Service');
      return;
    }
    const text = `${conflicts.join(', ')} also route this Service's callers; Istio applies either a VirtualService or an HTTPRoute for a host, not both, `
      + 'so the weights this release sets may not take effect: remove the one that is not managed here';
    if (this.changed(ConditionType.RouteConflict, 'True', text)) this.event('Warning', Reason.ConflictingRoutes, text);
    this.condition(ConditionType.RouteConflict, 'True', Reason.ConflictingRoutes, text);
  }

  /** The mesh has not taken the route's current generation: the step's clock stops until it has. */
  holdUntilApplied(view: RouteView, why: string): Decision {
    this.hold();
    this.keepTraffic(view);
    const w = this.status.canaryWeight ?? 0;
    const text = `Waiting for the mesh to take the route at ${w}% on ${this.status.canarySubset}: ${why}`;
    if (this.changed(ConditionType.Progressing, 'True', text)) this.event('Normal', Reason.RouteNotAccepted, text);
    this.phaseConditions(Reason.RouteNotAccepted, text);
    this.message(text);
    return this.done(UNROUTABLE_RETRY_MS / 3);
  }

  notRoutable(route: Extract<RouteObservation, { ok: false }>): void {
    if (this.changed(ConditionType.TrafficRoutable, 'False', route.message)) this.event('Warning', route.reason, `The route cannot be used: ${route.message}`);
    this.condition(ConditionType.TrafficRoutable, 'False', route.reason, route.message);
  }

  holdUnroutable(route: RouteObservation | undefined): Decision {
    const reason = route && !route.ok ? route.reason : Reason.RouteNotFound;
    const text = route && !route.ok ? route.message : 'no route to manage';
    const w = this.status.canaryWeight ?? 0;
    const prev = findCondition(this.snap.status.conditions, ConditionType.TrafficRoutable);
    this.condition(ConditionType.TrafficRoutable, 'False', reason, text);
    const held = w > 0
      ? `The route cannot be changed until this is fixed: it was last set to ${w}% on ${this.status.canarySubset}.`
      : 'No traffic was moved.';
    this.message(`Holding: ${text}. ${held}`);
    if (prev?.status !== 'False' || prev.message !== text) this.event('Warning', reason, `Holding: ${text}. ${held}`);
    if (w > 0) this.hold();
    return this.done(UNROUTABLE_RETRY_MS);
  }

  workloadConditions(canary: WorkloadState | undefined): void {
    if (!canary) return;
    this.condition(ConditionType.CanaryAvailable, canary.available ? 'True' : 'False',
      canary.available ? Reason.CanaryAvailable : Reason.CanaryUnavailable, canary.message);
  }

  // ---- traffic --------------------------------------------------------------

  /** Sets the release's canary weight; the route is written (after the status) unless it is there already. */
  setTraffic(view: RouteView, percent: number): void {
    this.recordDecidedAt(view, this.routeWeight(view));
    this.status.canaryWeight = percent;
    this.setCanaryPercent = view.isAt(percent) ? undefined : percent;
  }

  /** The weight the route has now: the release's own number when the route is at it. */
  private routeWeight(view: RouteView): number {
    const w = this.status.canaryWeight ?? 0;
    return view.isAt(w) ? w : view.canaryPercent;
  }

  /** The route as it was when the weight to write was decided (see own-write.ts). */
  private recordDecidedAt(view: RouteView, previous: number | undefined): void {
    const st = this.status;
    st.routeRevision = view.revision;
    st.routeUid = view.uid;
    if (previous === undefined) delete st.previousCanaryWeight;
    else st.previousCanaryWeight = previous;
  }

  /**
   * Keeps the route at the release's weight. A route still at the revision the
   * weight was decided at is the operator's own write, not yet done (a crash
   * or a failed write after the status): it is finished, and the step starts
   * now. Any other difference is someone else's edit: undone and reported.
   */
  keepTraffic(view: RouteView): void {
    const st = this.status;
    const want = st.canaryWeight ?? 0;
    if ((st.currentStep ?? 0) === 0 && want === 0) return;
    if (view.isAt(want)) return;
    this.setCanaryPercent = want;
    if (ownWritePending(st, view)) {
      // The step starts when its traffic moves. Restamped at most once a second: a route write that keeps
      // failing must not turn into a loop of status writes (each one an update event).
      const started = timeOf(st.stepStartedAt, this.now) ?? 0;
      if (st.phase === Phase.Progressing && this.now.getTime() - started >= RESTAMP_AFTER_MS) st.stepStartedAt = this.nowIso;
      return;
    }
    this.recordDecidedAt(view, view.canaryPercent);
    this.event('Warning', Reason.TrafficDrift,
      `The managed route's weights were changed outside the operator (${view.describe}); re-applied ${want}% to ${st.canarySubset}. Stop other tools from writing these weights (see the GitOps notes)`);
  }

  /** A person aborts: all traffic this release moved goes back to stable; through the route if it can be written. */
  abort(view: RouteView | undefined, routeProblem: string | undefined, stableCannotServe = false): Decision {
    const st = this.status;
    const w = st.canaryWeight ?? 0;
    if (w === 0) return this.rollBack(undefined, Reason.Aborted, `Aborted on request before any traffic moved to ${st.canarySubset}`);
    if (!view) {
      return this.rollBack(undefined, Reason.Aborted,
        `Aborted on request at ${w}%, but the route cannot be changed (${routeProblem ?? 'no route'}): fix it and set ${st.canarySubset}'s weight to 0 by hand`);
    }
    if (stableCannotServe) {
      // Recorded now, written by finished() once the stable subset can take the traffic (never onto nothing).
      this.recordDecidedAt(view, this.routeWeight(view));
      st.canaryWeight = 0;
      const text = `Aborted on request at ${w}%; ${st.stableSubset} cannot take the traffic yet (${routeProblem ?? 'subset missing'}), `
        + `so it goes back to 100% ${st.stableSubset} as soon as the DestinationRule defines ${st.stableSubset} again`;
      this.finish(Phase.RolledBack, Reason.Aborted, text);
      this.event('Warning', Reason.Aborted, text);
      return this.done(UNROUTABLE_RETRY_MS);
    }
    return this.rollBack(view, Reason.Aborted, `Aborted on request at ${w}%: traffic back to 100% ${st.stableSubset}`);
  }

  rollBack(view: RouteView | undefined, reason: Reason, text: string): Decision {
    const st = this.status;
    // Only traffic this release moved is taken back: a release that never moved any writes nothing.
    if (view && (st.canaryWeight ?? 0) > 0) this.setTraffic(view, 0);
    else {
      st.canaryWeight = 0;
      for (const k of ['routeRevision', 'routeUid', 'previousCanaryWeight'] as const) delete st[k];
    }
    this.finish(Phase.RolledBack, reason, text);
    this.event('Warning', reason, text);
    return this.done();
  }

  promote(view: RouteView, reason: Reason, text: string): Decision {
    this.setTraffic(view, 100);
    this.status.currentStep = this.status.totalSteps ?? this.status.currentStep;
    this.finish(Phase.Succeeded, reason, text);
    this.event('Normal', reason, text);
    return this.done();
  }

  private finish(phase: Phase, reason: Reason, text: string): void {
    const st = this.status;
    st.phase = phase;
    st.completedAt = this.nowIso;
    // ownsRouteSince stays: the route is held until this last write has reached it (see route-ownership.ts).
    for (const k of ['pausedAt', 'pausedBy', 'canaryWaitingSince', 'canaryLostSince', 'heldSince'] as const) delete st[k];
    this.phaseConditions(reason, text);
    this.message(text);
  }

  /**
   * A finished release: the operator does not fight over its route, but a
   * change is visible (condition, Event, metric). Its own final write, still
   * pending after a crash or a failed write, is finished.
   */
  finished(route: RouteObservation | undefined): Decision {
    const st = this.status;
    // A route whose DestinationRule or subset is gone can still be read and written.
    const view = route?.view;
    if (st.phase === Phase.Failed) return this.done();
    if (!view) {
      // No route left to write: nothing is pending any more (and the route is free for others).
      for (const k of ['routeRevision', 'routeUid', 'previousCanaryWeight'] as const) delete st[k];
      return this.done();
    }
    const want = st.canaryWeight ?? 0;
    const expected = want >= 100 ? `100% ${st.canarySubset}` : `100% ${st.stableSubset}`;
    // Once nothing of ours is pending, that is recorded (see finalWriteSettled): others may take the
    // route, and a later change back to the old weight is never taken for our write.
    const settle = () => {
      if (!finalWriteSettled(st) || st.routeRevision !== view.revision || st.routeUid !== view.uid) this.recordDecidedAt(view, want);
    };
    if (view.isAt(want)) {
      settle();
      // The condition appears only once the route was changed; back in sync it says so.
      const prev = findCondition(this.snap.status.conditions, ConditionType.RouteInSync);
      if (prev?.status === 'False') {
        this.event('Normal', Reason.InSync, `The route matches the release again (${expected})`);
        this.message(`${st.phase}: the route sends ${expected} as the release left it`);
        this.condition(ConditionType.RouteInSync, 'True', Reason.InSync, `The route sends ${expected} as the release left it`);
      }
      return this.done();
    }
    const pending = pendingFinalWrite(st, route);
    if (pending) {
      // The message the decision wrote still says what is awaited.
      if (pending.blockedBy) return this.done(UNROUTABLE_RETRY_MS);
      this.setCanaryPercent = pending.percent;
      return this.done();
    }
    settle();
    const text = `The route was changed after the release ended (${view.describe}; the release left ${expected})`;
    if (this.changed(ConditionType.RouteInSync, 'False', text)) {
      this.event('Warning', Reason.TrafficDrift, `${text}. The operator does not change the route of a finished release; if this was not intended, put the weights back, or start a new release from the spec`);
    }
    this.condition(ConditionType.RouteInSync, 'False', Reason.TrafficDrift, text);
    this.message(`${st.phase}, but the route was changed after the release: ${view.describe}`);
    return this.done();
  }

  // ---- holds ------------------------------------------------------------------

  /** A hold stops the step's clock (and the workload wait); endHold gives that time back. */
  hold(): void {
    this.status.heldSince ??= this.nowIso;
  }

  endHold(): void {
    const st = this.status;
    const since = timeOf(st.heldSince, this.now);
    if (since === undefined) {
      delete st.heldSince;
      return;
    }
    const heldFor = this.now.getTime() - since;
    const shift = (t: string | undefined) => (t === undefined ? undefined : isoOf((timeOf(t, this.now) ?? this.now.getTime()) + heldFor));
    if (st.stepStartedAt) st.stepStartedAt = shift(st.stepStartedAt);
    if (st.canaryWaitingSince) st.canaryWaitingSince = shift(st.canaryWaitingSince);
    // Nor does it count toward inconclusiveTimeout or prometheusErrorTimeout.
    if (st.analysis?.inconclusiveSince) st.analysis.inconclusiveSince = shift(st.analysis.inconclusiveSince);
    if (st.analysis?.errorSince) st.analysis.errorSince = shift(st.analysis.errorSince);
    // What was measured during the hold says little about the canary now.
    st.measureFrom = this.nowIso;
    delete st.heldSince;
  }

  pauseBySpec(plan: ReleasePlan): void {
    const st = this.status;
    const w = st.canaryWeight ?? 0;
    this.pause('spec', Reason.Paused, `Paused by spec.paused at ${w}%`,
      `Paused at step ${st.currentStep ?? 0}/${plan.steps.length} with ${w}% of traffic on ${st.canarySubset}; to resume: ${this.command('resume')} (or set spec.paused to false)`);
    this.event('Normal', Reason.Paused, `Paused at ${w}% of traffic on ${st.canarySubset}`);
  }

  private pause(by: 'spec' | 'analysis', reason: Reason, conditionText: string, message: string): void {
    const st = this.status;
    st.phase = Phase.Paused;
    st.pausedAt = this.nowIso;
    st.pausedBy = by;
    this.hold();
    this.phaseConditions(reason, conditionText);
    this.message(message);
  }

  resume(text: string): void {
    const st = this.status;
    const pausedAt = timeOf(st.pausedAt, this.now);
    // A pause recorded by an operator that did not keep heldSince: its time is given back the same way.
    if (st.heldSince === undefined && st.pausedAt !== undefined) st.heldSince = st.pausedAt;
    const pausedFor = pausedAt === undefined ? 0 : this.now.getTime() - pausedAt;
    // A person looked and chose to go on: the evidence starts afresh.
    if (st.pausedBy === 'analysis') delete st.analysis;
    delete st.pausedAt;
    delete st.pausedBy;
    st.phase = (st.currentStep ?? 0) > 0 ? Phase.Progressing : Phase.Pending;
    this.event('Normal', Reason.Resumed, `${text} at ${st.canaryWeight ?? 0}% after a pause of ${formatDuration(pausedFor)}`);
  }

  /** The canary has traffic but cannot serve: hold, and give its traffic back at the deadline. */
  canaryCannotServe(plan: ReleasePlan, view: RouteView, why: string): Decision {
    const st = this.status;
    st.canaryLostSince ??= this.nowIso;
    this.hold();
    const since = timeOf(st.canaryLostSince, this.now) ?? this.now.getTime();
    const deadline = since + plan.canaryUnavailableTimeoutMs;
    const left = deadline - this.now.getTime();
    const w = st.canaryWeight ?? 0;
    if (left <= 0) {
      return this.rollBack(view, Reason.CanaryUnavailable,
        `The canary (${st.canarySubset}) could not serve for ${formatDuration(this.now.getTime() - since)} while it had ${w}% of traffic (${why}): rolled back to 100% ${st.stableSubset}. Fix it, then retry: ${this.command('retry')}`);
    }
    const text = `The canary (${st.canarySubset}) has ${w}% of traffic but cannot serve (${why}); its traffic goes back to ${st.stableSubset} at ${isoOf(deadline)} unless it recovers`;
    if (!this.snap.status.canaryLostSince) this.event('Warning', Reason.CanaryUnavailable, text);
    this.phaseConditions(Reason.CanaryUnavailable, text);
    this.message(`Holding: ${text}`);
    // Never more traffic onto a canary that cannot serve: a route that shows less (re-created, reverted, or
    // this release's write not made yet) stays as it is until the canary serves again.
    if (view.canaryAtLeast(w)) this.keepTraffic(view);
    return this.done(Math.min(left, WORKLOAD_POLL_MS));
  }

  canaryServes(): void {
    const st = this.status;
    if (!st.canaryLostSince) return;
    const since = timeOf(st.canaryLostSince, this.now) ?? this.now.getTime();
    this.event('Normal', Reason.CanaryAvailable, `The canary (${st.canarySubset}) can serve again after ${formatDuration(this.now.getTime() - since)}; the time held does not count toward the step`);
    delete st.canaryLostSince;
  }

  // ---- the first traffic move -------------------------------------------------

  /**
   * Before the release moves any traffic: adopt the route as it is (already
   * on the canary, on stable, or at one of the plan's weights), check both
   * workloads and the analysis preflight, then take the first step.
   */
  begin(plan: ReleasePlan, view: RouteView, obs: Observations): Decision {
    const st = this.status;
    if (view.isAt(100)) {
      this.recordDecidedAt(view, 100);
      st.canaryWeight = 100;
      st.currentStep = plan.steps.length;
      const text = `The route already sends 100% to ${st.canarySubset}: nothing to move, the release is Succeeded`;
      this.finish(Phase.Succeeded, Reason.AlreadyPromoted, text);
      this.event('Normal', Reason.AlreadyPromoted, `${text} (${view.describe})`);
      return this.done();
    }
    const adopted = view.isAt(0) ? 0 : plan.steps.findIndex((s) => s.weight < 100 && view.isAt(s.weight)) + 1;
    if (adopted === 0 && !view.isAt(0)) {
      const weights = plan.steps.filter((s) => s.weight < 100).map((s) => `${s.weight}`).join(', ');
      const text = `The route does not send all of its ${st.stableSubset}+${st.canarySubset} traffic to ${st.stableSubset} (${view.describe}), and ${view.canaryPercent}% is not one of this release's weights (spec.steps: ${weights}). No traffic was moved. To start from the route as it is, add a step with weight ${view.canaryPercent} to spec.steps; to start from the beginning, set the route to 100% ${st.stableSubset} first`;
      if (this.changed(ConditionType.Progressing, 'True', text)) this.event('Warning', Reason.RouteNotAtStart, text);
      this.phaseConditions(Reason.RouteNotAtStart, text);
      this.message(`Holding: ${text}`);
      return this.done(UNROUTABLE_RETRY_MS);
    }
    const wait = this.waitForWorkloads(plan, obs.canary, obs.stable);
    if (wait) return wait;
    if (plan.analysis) {
      const pre = obs.preflight;
      const unwritten = pre ? undefined : this.unwrittenFor();
      if (unwritten !== undefined) return this.nothingWritten(unwritten);
      if (!pre || !pre.ok) {
        const why = pre ? pre.message : 'checking that Prometheus answers and the subsets carry the version label';
        const text = `Before moving traffic: ${why}. No traffic was moved`;
        if (pre && this.changed(ConditionType.Progressing, 'True', text)) this.event('Warning', Reason.PreflightFailed, text);
        this.phaseConditions(pre ? Reason.PreflightFailed : Reason.Started, text);
        this.message(`Holding: ${text}`);
        return this.done(pre ? PREFLIGHT_RETRY_MS : 1000);
      }
    }
    if (adopted > 0) {
      const step = plan.steps[adopted - 1] as PlannedStep;
      this.recordDecidedAt(view, step.weight);
      st.canaryWeight = step.weight;
      st.currentStep = adopted;
      st.phase = Phase.Progressing;
      st.stepStartedAt = this.nowIso;
      st.measureFrom = this.nowIso;
      const text = `Step ${adopted}/${plan.steps.length}: the route already sends ${step.weight}% to ${st.canarySubset}; adopted as this step for ${formatDuration(step.durationMs)}`;
      this.phaseConditions(Reason.StepInProgress, text);
      this.message(text);
      this.stepEvent(`${text} (${view.describe})`);
      return this.done(this.nextLook(plan, step.durationMs));
    }
    return this.advance(plan, view, 1, obs.canary);
  }

  /** How much longer a release never written may stay so (FIRST_WRITE_WAIT_MS); undefined: write now. */
  private unwrittenFor(): number | undefined {
    const created = this.snap.createdAtMs;
    if (!isFresh(this.snap.status) || created === undefined) return undefined;
    const age = this.now.getTime() - created;
    // A creation time ahead of this clock (clocks apart, or this one set back) is no measure of the wait.
    return age >= 0 && age < FIRST_WRITE_WAIT_MS ? FIRST_WRITE_WAIT_MS - age : undefined;
  }

  /** The status as it was and no Event: only the finalizer, and a look again (the preflight's answer enqueues one sooner). */
  private nothingWritten(lookAgainMs: number): Decision {
    return { status: this.snap.status, events: [], requeueAfterMs: clampDelay(lookAgainMs), finalizer: this.finalizer };
  }

  /** Both workloads must be able to serve before the first traffic move; after canaryReadyTimeout the release fails. */
  private waitForWorkloads(plan: ReleasePlan, canary: WorkloadState | undefined, stable: WorkloadState | undefined): Decision | undefined {
    const st = this.status;
    const missing: { who: string; reason: Reason; detail: string }[] = [];
    if (!canary?.available) missing.push({ who: `the canary workload (${st.canarySubset})`, reason: Reason.WaitingForCanary, detail: canary?.message ?? 'not checked' });
    if (stable && !stable.available) missing.push({ who: `the stable workload (${st.stableSubset})`, reason: Reason.WaitingForStable, detail: stable.message });
    const first = missing[0];
    if (!first) {
      delete st.canaryWaitingSince;
      return undefined;
    }
    const since = timeOf(st.canaryWaitingSince, this.now) ?? this.now.getTime();
    const left = since + plan.canaryReadyTimeoutMs - this.now.getTime();
    const what = missing.map((m) => `${m.who}: ${m.detail}`).join('; ');
    if (left <= 0) {
      const text = `Not available within ${formatDuration(plan.canaryReadyTimeoutMs)}: ${what}; no traffic was moved. Fix it, then retry: ${this.command('retry')}`;
      this.finish(Phase.Failed, Reason.CanaryReadyTimeout, text);
      this.event('Warning', Reason.CanaryReadyTimeout, text);
      return this.done();
    }
    if (!st.canaryWaitingSince) this.event('Normal', first.reason, `Waiting before sending traffic: ${what}`);
    st.canaryWaitingSince = isoOf(since);
    const msg = `Waiting for ${missing.map((m) => m.who).join(' and ')} to be available before the first step: ${what}. Gives up at ${isoOf(since + plan.canaryReadyTimeoutMs)}`;
    this.phaseConditions(first.reason, msg);
    this.message(msg);
    return this.done(Math.min(left, WORKLOAD_POLL_MS));
  }

  // ---- steps ------------------------------------------------------------------

  /** Moves to step `index` (1-based) of the plan; with gates, a 100% step with no evidence behind it is judged too. */
  advance(plan: ReleasePlan, view: RouteView, index: number, canary: WorkloadState | undefined): Decision {
    const st = this.status;
    const next = plan.steps[index - 1] as PlannedStep;
    if (!canary?.available) {
      // A step up needs a canary that can take it; holding here keeps the current weight.
      const text = `Step ${index}/${plan.steps.length} waits for the canary workload (${st.canarySubset}) to be available: ${canary?.message ?? 'not checked'}`;
      this.phaseConditions(Reason.WaitingForCanary, text);
      this.message(text);
      this.keepTraffic(view);
      return this.done(WORKLOAD_POLL_MS);
    }
    const judged = next.weight >= 100 && plan.analysis !== undefined && (st.canaryWeight ?? 0) === 0;
    if (next.weight >= 100 && !judged) {
      return this.promote(view, Reason.Promoted, `Promoted: 100% of traffic to ${st.canarySubset} after ${plan.steps.length - 1} step(s)`);
    }
    // Rounds count from the canary's first traffic: what came before measured nothing of it.
    if ((st.canaryWeight ?? 0) === 0) st.measureFrom = this.nowIso;
    this.setTraffic(view, next.weight);
    st.currentStep = index;
    st.phase = Phase.Progressing;
    st.stepStartedAt = this.nowIso;
    const text = stepText(index, plan.steps, st.canarySubset);
    this.phaseConditions(Reason.StepInProgress, text);
    this.message(`${text}; ${this.awaited(plan, next.durationMs)}`);
    const passed = plan.analysis && st.analysis?.verdict === GateVerdict.Pass && index > 1 ? `, after gates passed: ${summarize(st.analysis.gates, GateVerdict.Pass)}` : '';
    this.stepEvent(`${text} (${st.stableSubset} gets ${100 - next.weight}%)${passed}`);
    return this.done(this.nextLook(plan, next.durationMs));
  }

  /**
   * A step taken in the same decision that started the release is told in
   * its Started (or Retried) Event: one moment, one Event, so a burst of new
   * releases costs the API server one Event create each, not two.
   */
  private stepEvent(message: string): void {
    const started = this.events.at(-1);
    if (started && (started.reason === Reason.Started || started.reason === Reason.Retried)) started.message = `${started.message}; ${message}`;
    else this.event('Normal', Reason.StepAdvanced, message);
  }

  /** Keeps currentStep in line with the weight under the current plan (an edited plan re-maps onto the weight). */
  syncStep(plan: ReleasePlan, pos: PlanPosition): void {
    this.status.currentStep = this.status.canaryWeight === 100 ? plan.steps.length : Math.max(pos.step, 1);
  }

  stepInProgress(plan: ReleasePlan, pos: PlanPosition, remainingMs: number): Decision {
    const st = this.status;
    const text = stepPositionText(plan, pos, st);
    this.phaseConditions(Reason.StepInProgress, text);
    const a = plan.analysis;
    if (a && !this.awaitingFirstRound(a, pos.holdMs)) {
      // A round said something against the step (or is late): its time, and what the rounds say.
      this.message(`${text}; next step after ${isoOf(this.now.getTime() + remainingMs)}; ${holdMessage(st, a, this.now)}`);
    } else {
      this.message(`${text}; ${this.awaited(plan, pos.holdMs)}`);
    }
    return this.done(this.nextLook(plan, remainingMs));
  }

  /**
   * What the step waits for: its time, or with gates the first round that can
   * end it. Named from the step's start and the same until a round says
   * otherwise, so a step writes its status once, not again when its time is
   * up or when a round starts.
   */
  private awaited(plan: ReleasePlan, holdMs: number): string {
    const st = this.status;
    const start = timeOf(st.stepStartedAt, this.now) ?? this.now.getTime();
    if (!plan.analysis) return `next step after ${isoOf(start + holdMs)}`;
    const what = (st.canaryWeight ?? 0) >= 100 ? 'promoted' : 'next step';
    const sooner = plan.analysis.sequential.length > 0 ? ', or sooner on sequential evidence' : '';
    return `${what} on the first passing analysis round from ${isoOf(firstRoundForStep(plan.analysis, st, holdMs, this.now))}${sooner}`;
  }

  /**
   * The step waits for the round its message names: no round has said
   * anything against it (none so far, or only passing ones), and that round is
   * not more than an interval late (then the message says what is due now).
   */
  private awaitingFirstRound(a: AnalysisPlan, holdMs: number): boolean {
    const v = this.status.analysis?.verdict;
    if (v !== undefined && v !== GateVerdict.Pass) return false;
    return firstRoundForStep(a, this.status, holdMs, this.now) + a.intervalMs > this.now.getTime();
  }

  /** The sooner of `ms` and the next analysis round that can count. */
  private nextLook(plan: ReleasePlan, ms: number): number {
    return plan.analysis ? Math.min(ms, untilNextRound(plan.analysis, this.status, this.now)) : ms;
  }

  waitForEvidence(plan: ReleasePlan, a: AnalysisPlan, pos: PlanPosition, untilRoundMs: number): Decision {
    const st = this.status;
    // Waiting for the round the step's message already names is no news: the status stays as it is.
    if (this.awaitingFirstRound(a, pos.holdMs)) {
      const text = stepPositionText(plan, pos, st);
      this.phaseConditions(Reason.StepInProgress, text);
      this.message(`${text}; ${this.awaited(plan, pos.holdMs)}`);
      return this.done(untilRoundMs);
    }
    const text = `Step ${st.currentStep}/${plan.steps.length} held at ${st.canaryWeight}% on ${st.canarySubset}: ${holdMessage(st, a, this.now)}`;
    this.phaseConditions(Reason.WaitingForAnalysis, text);
    this.message(text);
    return this.done(untilRoundMs);
  }

  endAnalysis(plan: ReleasePlan, view: RouteView, end: NonNullable<RoundOutcome['end']>): Decision {
    const st = this.status;
    const a = plan.analysis as AnalysisPlan;
    const action = end.kind === 'failed' ? a.onFailure : a.onInconclusive;
    if (action === 'pause') {
      const text = `${end.message}: paused at ${st.canaryWeight}% on ${st.canarySubset}`;
      this.pause('analysis', end.reason, text,
        `${text}. Decide with one of: ${this.command('resume')} (judge again on fresh data); ${this.command('promote')}; ${this.command('abort')}`);
      this.event('Warning', end.reason, text);
      this.keepTraffic(view);
      return this.done();
    }
    return this.rollBack(view, end.reason, `${end.message}: rolled back to ${st.stableSubset}`);
  }

  healthCondition(verdict: GateVerdict, gates: GateResult[]): void {
    const status = verdict === GateVerdict.Pass ? 'True' : verdict === GateVerdict.Fail ? 'False' : 'Unknown';
    const reason = verdict === GateVerdict.Pass ? Reason.GatesPassed : verdict === GateVerdict.Fail ? Reason.GateFailed
      : verdict === GateVerdict.Error ? Reason.MetricsUnavailable : verdict === GateVerdict.Judging ? Reason.Judging : Reason.AnalysisInconclusive;
    this.condition(ConditionType.Healthy, status, reason, summarize(gates, verdict));
  }
}

const TIME_FIELDS = ['releaseStartedAt', 'stepStartedAt', 'measureFrom', 'pausedAt', 'heldSince', 'canaryLostSince', 'canaryWaitingSince', 'completedAt', 'ownsRouteSince'] as const;
const ROUND_TIME_FIELDS = ['evaluatedAt', 'measuredFrom', 'inconclusiveSince', 'errorSince'] as const;

/**
 * A timestamp in the future (written by a replica whose clock ran fast) is
 * rewritten as now, once: otherwise a hold or a round schedule measured from
 * it would wait for this clock to catch up, with the canary holding traffic.
 */
function pullFutureTimesToNow(st: CanaryReleaseStatus, now: Date): void {
  const t = now.getTime();
  const fix = <K extends string>(o: Partial<Record<K, string>>, keys: readonly K[]): boolean => {
    let moved = false;
    for (const k of keys) {
      const v = o[k];
      if (v !== undefined && Date.parse(v) > t) {
        o[k] = isoOf(t);
        moved = true;
      }
    }
    return moved;
  };
  fix(st, TIME_FIELDS);
  // A round stamped in the future was measured on a clock we cannot place: its window might
  // cover an earlier step. It stays on show but is no evidence (it never lets a step end).
  if (st.analysis && fix(st.analysis, ROUND_TIME_FIELDS)) delete st.analysis.measuredFrom;
}

function stepText(index: number, steps: PlannedStep[], canary: string | undefined): string {
  const step = steps[index - 1];
  const hold = step && step.weight < 100 ? ` for ${formatDuration(step.durationMs)}` : '';
  return `Step ${index}/${steps.length}: ${step?.weight ?? 0}% of traffic to ${canary}${hold}`;
}

function stepPositionText(plan: ReleasePlan, pos: PlanPosition, st: CanaryReleaseStatus): string {
  if (pos.onStep) return stepText(pos.step, plan.steps, st.canarySubset);
  return `Holding ${st.canaryWeight}% on ${st.canarySubset} (not a step of the edited plan; the next step is ${pos.next?.weight ?? 100}%)`;
}

export { positionOf };

/**
 * A finished release's last decided write that its route still waits for
 * (see ownWritePending): the percent to write, and what blocks it when the
 * subset it would send traffic to is missing (never written onto that).
 */
function pendingFinalWrite(st: CanaryReleaseStatus, route: RouteObservation | undefined): { percent: number; blockedBy?: { reason: Reason; message: string } } | undefined {
  const view = route?.view;
  if (!view || !ownWritePending(st, view, true)) return undefined;
  const percent = st.canaryWeight ?? 0;
  const target = percent >= 100 ? 'canary' : 'stable';
  if (route && !route.ok && route.unreachable === target) return { percent, blockedBy: { reason: route.reason, message: route.message } };
  return { percent };
}

/** Whether the route's stable subset is missing while its canary's is not (sending traffic back would send it nowhere). */
function stableUnreachable(route: RouteObservation | undefined): route is Extract<RouteObservation, { ok: false }> {
  return route !== undefined && !route.ok && route.unreachable === 'stable';
}
