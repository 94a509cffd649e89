// The functional core: what a release does next, as a pure function of its
// plan, status, annotations, what the cluster looks like now and the time.
// No I/O here. The reconciler applies the Decision intent first: status, then
// traffic, then Events. The status says what the route must become before
// the route is written, so a crash or a failed write in between leaves a
// status the next reconcile finishes (a write still pending), and the
// operator never takes its own unfinished write for someone else's drift.
import { Phase, Reason, isActive, isTerminal } from '../api/conditions.js';
import { ownWritePending } from './own-write.js';
import { REQUEST_KINDS, REQUEST_ANNOTATIONS, type RequestKind } from '../api/names.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { FieldProblem } from '../api/validate.js';
import { describeProblems } from '../api/validate.js';
import { evidenceAllowsAdvance, isNewRound, recordRound, untilNextRound, type AnalysisRound } from './analysis-rules.js';
import { DecisionBuilder, isFresh, type Decision } from './decision-builder.js';
import type { ReleasePlan, RouteRef } from './plan.js';
import { positionOf } from './steps.js';
import { timeOf } from './time.js';
import type { RouteObservation, RouteView, WorkloadState } from './traffic.js';
import { deepEqual } from '../util/deep-equal.js';

export type { Decision, DecisionEvent } from './decision-builder.js';

export type PlanResult = { ok: true; plan: ReleasePlan } | { ok: false; problems: FieldProblem[] };

export interface ReleaseSnapshot {
  namespace: string;
  name: string;
  generation: number;
  deleting: boolean;
  hasFinalizer: boolean;
  /** metadata.creationTimestamp in ms (the API server's clock); undefined when unknown. */
  createdAtMs?: number | undefined;
  annotations: Record<string, string>;
  plan: PlanResult;
  status: CanaryReleaseStatus;
}

/** Another release that owns the route this one names. */
export interface RouteOwner {
  /** namespace/name of the owning CanaryRelease. */
  release: string;
  /** e.g. 'v1 -> v2, started at 2026-12-01T10:00:00.000Z'. */
  description: string;
  /** e.g. 'VirtualService bookinfo/reviews'. */
  route: string;
}

export type PreflightResult = { ok: true } | { ok: false; message: string };

export interface Observations {
  /** The route of the release in effect; undefined when no route can be named. */
  route?: RouteObservation | undefined;
  /** The route of a replaced release still to be returned to stable (status.restore). */
  restoreRoute?: RouteObservation | undefined;
  canary?: WorkloadState | undefined;
  stable?: WorkloadState | undefined;
  /** Set when another release owns the route: this one must not touch it. */
  owner?: RouteOwner | undefined;
  /** Checks made before the first traffic move (Prometheus reachable, version labels); undefined until run. */
  preflight?: PreflightResult | undefined;
  /** The latest finished analysis round, when the shell has one. */
  analysis?: AnalysisRound | undefined;
  /** Routes of other providers for the same Service (each described), which the mesh may apply instead. */
  conflicts?: string[] | undefined;
}

/** Subsets of the release in effect: the status's once a release started, else the plan's. */
export function effectiveSubsets(snapshot: ReleaseSnapshot): { stable: string; canary: string } | undefined {
  const s = snapshot.status;
  if (s.stableSubset && s.canarySubset) return { stable: s.stableSubset, canary: s.canarySubset };
  if (snapshot.plan.ok) return { stable: snapshot.plan.plan.stable, canary: snapshot.plan.plan.canary };
  return undefined;
}

/** The route of the release in effect: the status's once a release started, else the plan's. */
export function effectiveTarget(snapshot: ReleaseSnapshot): RouteRef | undefined {
  return snapshot.status.target ?? (snapshot.plan.ok ? snapshot.plan.plan.target : undefined);
}

export function decide(snap: ReleaseSnapshot, obs: Observations, now: Date): Decision {
  const d = new DecisionBuilder(snap, now);
  if (snap.deleting) return d.deletion(obs);
  if (!snap.hasFinalizer) d.finalizer = 'add';
  if (isFresh(snap.status)) {
    // Annotations an object is created with (say, left in git from an earlier release) are history, not requests.
    for (const k of newRequests(snap)) d.handled(k);
  }
  const restored = d.restorePrevious(obs.restoreRoute);
  if (!snap.plan.ok) return d.invalidSpec(describeProblems(snap.plan.problems));
  d.specValid();
  const plan = snap.plan.plan;
  const st = d.status;
  st.totalSteps = plan.steps.length;

  const inEffect = Boolean(st.stableSubset && st.canarySubset);
  // A finished release whose last write has not reached its route yet finishes it before anything else
  // (a retry or the next release in the spec would otherwise forget it).
  const seen = obs.route?.view;
  if (inEffect && isTerminal(st.phase as Phase) && seen && ownWritePending(st, seen, true)) return d.finished(obs.route);

  // A spec naming other subsets or another route starts a new release; an active one gives its traffic back first.
  if (inEffect && !sameRelease(st, plan)) {
    if (isActive(st.phase) && (st.canaryWeight ?? 0) > 0) d.supersede(plan, obs.route);
    d.startRelease(plan);
    // What was observed belongs to the replaced release; the new one looks at its own route next time.
    return d.done(0);
  } else if (!inEffect) {
    d.startRelease(plan);
  }

  // The replaced release's route is back on stable: the new release takes its own route from the next look,
  // like any other release (the hold on the old route ended with the restore).
  if (restored && isActive(st.phase)) return d.done(0);

  const requests = newRequests(snap);
  if (isTerminal(st.phase as Phase)) {
    if (requests.has('retry')) {
      d.handled('retry');
      if (st.phase === Phase.Succeeded) {
        d.event('Normal', Reason.RequestIgnored, 'Retry ignored: the release already succeeded; retry restarts a rolled-back or failed release');
      } else {
        d.startRelease(plan, true);
      }
    }
    if (isTerminal(st.phase as Phase)) {
      for (const k of ['promote', 'abort', 'resume'] as const) {
        if (requests.has(k)) {
          d.handled(k);
          d.event('Normal', Reason.RequestIgnored, `${capitalize(k)} ignored: the release has already ended (${st.phase})`);
        }
      }
      return d.finished(obs.route);
    }
  }
  // Requests handled above (a retry) are not requests any more.
  return decideActive(d, plan, obs, unhandled(snap.annotations, st));
}

/** Pending, Progressing and Paused. */
function decideActive(d: DecisionBuilder, plan: ReleasePlan, obs: Observations, requests: Set<RequestKind>): Decision {
  const st = d.status;
  if (st.restore) return d.waitForRestore(obs.restoreRoute);
  if (obs.owner) return d.holdForOwner(obs.owner, requests);
  // No other release holds the route: this one takes it, in the status written before any traffic move.
  st.ownsRouteSince ??= d.nowIso;
  const route = obs.route;
  if (!route?.ok && requests.has('abort')) {
    // Abort always works: through the route when it can be read (deferred while stable cannot serve),
    // else in status with a warning that says what to set by hand.
    d.handled('abort');
    if (requests.has('promote')) d.handled('promote');
    return d.abort(route?.view, route?.message, route?.unreachable === 'stable');
  }
  if (!route?.ok) {
    // A canary with traffic whose subset vanished serves 503s: its traffic goes back within the deadline
    // (not when stable cannot be reached either: that would send everything to a broken subset).
    if ((st.canaryWeight ?? 0) > 0 && route?.view && route.unreachable === 'canary') {
      d.notRoutable(route);
      return d.canaryCannotServe(plan, route.view, route.message);
    }
    return d.holdUnroutable(route);
  }
  const view = route.view;
  d.routable();
  d.conflicts(obs.conflicts);
  d.workloadConditions(obs.canary);

  if (requests.has('retry')) {
    d.handled('retry');
    d.event('Normal', Reason.RequestIgnored, `Retry ignored: the release is ${st.phase}; retry restarts a rolled-back or failed release`);
  }
  if (requests.has('abort')) {
    d.handled('abort');
    if (requests.has('promote')) d.handled('promote');
    return d.abort(view, undefined);
  }
  if (requests.has('promote')) {
    d.handled('promote');
    if (!obs.canary?.available) {
      d.event('Warning', Reason.RequestIgnored,
        `Promote refused: the canary workload is not available (${obs.canary?.message ?? 'unknown'}); sending it all traffic would fail requests`);
    } else {
      return d.promote(view, Reason.ManualPromotion, `Promoted on request: 100% of traffic to ${st.canarySubset}`);
    }
  }

  const moved = (st.canaryWeight ?? 0) > 0;
  // Safety before everything else that holds: a canary with traffic that cannot serve gets it back in time.
  if (moved && obs.canary && !obs.canary.available) return d.canaryCannotServe(plan, view, obs.canary.message);
  d.canaryServes();

  const pausedByAnalysis = st.phase === Phase.Paused && st.pausedBy === 'analysis';
  if (requests.has('resume')) {
    d.handled('resume');
    if (pausedByAnalysis) d.resume('Resumed on request after analysis paused the release');
    else d.event('Normal', Reason.RequestIgnored, `Resume ignored: the release is ${st.phase}${st.phase === Phase.Paused ? ' by spec.paused; set it to false' : ''}; resume continues a release that analysis paused`);
  } else if (pausedByAnalysis) {
    d.keepTraffic(view);
    return d.done();
  }
  if (plan.paused) {
    if (st.phase !== Phase.Paused) d.pauseBySpec(plan);
    d.keepTraffic(view);
    return d.done();
  }
  if (st.phase === Phase.Paused) d.resume('Resumed');
  // Weights the mesh has not taken yet (an HTTPRoute not Accepted for its generation) count for nothing.
  if (view.applied && !view.applied.ok) return d.holdUntilApplied(view, view.applied.message);
  d.endHold();

  if (!moved && (st.currentStep ?? 0) === 0) return d.begin(plan, view, obs);

  // Gates judge the canary while it has traffic; a failure beyond the limits ends or pauses the release.
  const a = plan.analysis;
  const round = obs.analysis;
  const weight = st.canaryWeight ?? 0;
  const pos = positionOf(plan.steps, weight);
  if (a && round && st.phase === Phase.Progressing && isNewRound(round, st, d.now)) {
    const stepEnds = (timeOf(st.stepStartedAt, d.now) ?? d.now.getTime()) + pos.holdMs;
    const step = { startedAt: st.stepStartedAt, timeIsUp: round.evaluatedAt.getTime() >= stepEnds };
    const outcome = recordRound(a, st.analysis, round, { stable: st.stableSubset as string, canary: st.canarySubset as string }, step);
    st.analysis = outcome.analysis;
    d.healthCondition(outcome.analysis.verdict, outcome.analysis.gates);
    for (const e of outcome.events) d.event(e.type, e.reason, e.message);
    if (outcome.end) return d.endAnalysis(plan, view, outcome.end);
  }
  d.keepTraffic(view);

  const started = timeOf(st.stepStartedAt, d.now) ?? d.now.getTime();
  const remaining = started + pos.holdMs - d.now.getTime();
  d.syncStep(plan, pos);
  // Sequential gates may end a step before its time, on evidence for the canary at this step.
  const early = remaining > 0 && a !== undefined && evidenceAllowsAdvance(st, d.now, true);
  if (remaining > 0 && !early) return d.stepInProgress(plan, pos, remaining);
  if (a && !early && !evidenceAllowsAdvance(st, d.now)) return d.waitForEvidence(plan, a, pos, untilNextRound(a, st, d.now));
  if (weight >= 100 || !pos.next) {
    return d.promote(view, Reason.Promoted, `Promoted: 100% of traffic to ${st.canarySubset} after ${plan.steps.length > 1 ? `${plan.steps.length - 1} step(s)` : 'its step at 100%'}`);
  }
  return d.advance(plan, view, pos.nextIndex, obs.canary);
}

function sameRelease(st: CanaryReleaseStatus, plan: ReleasePlan): boolean {
  if (st.stableSubset !== plan.stable || st.canarySubset !== plan.canary) return false;
  // A status written before the route was recorded (an older operator) follows the spec's route.
  return st.target === undefined || deepEqual(st.target, plan.target);
}

/** A release the operator has never written status for. */
export function newRequests(snap: ReleaseSnapshot): Set<RequestKind> {
  return unhandled(snap.annotations, snap.status);
}

function unhandled(annotations: Record<string, string>, status: CanaryReleaseStatus): Set<RequestKind> {
  const out = new Set<RequestKind>();
  for (const k of REQUEST_KINDS) {
    const v = annotations[REQUEST_ANNOTATIONS[k]];
    if (v && v !== status.handledRequests?.[k]) out.add(k);
  }
  return out;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export type { RouteView };
