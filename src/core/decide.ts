// The functional core: what a release does next, as a pure function of its
// spec, status, annotations, what the cluster looks like now and the time.
// No I/O here; the reconciler applies the Decision (traffic first, then
// status, then Events), so a crash between writes repeats nothing twice.
import { ConditionType, Phase, Reason, isTerminal } from '../api/conditions.js';
import { REQUEST_ANNOTATIONS, REQUEST_KINDS, type RequestKind } from '../api/names.js';
import { DEFAULTS } from '../api/spec.js';
import type { CanaryReleaseStatus } from '../api/status.js';
import { describeProblems, type SpecValidation } from '../api/validate.js';
import { setConditions, findCondition, type ConditionUpdate } from './conditions.js';
import { formatDuration, parseDuration } from './duration.js';
import { planSteps, type PlannedStep } from './steps.js';
import { routesAt, type ManagedRoute } from '../mesh/virtual-service.js';
import { GateVerdict, type GateResult } from '../api/analysis-status.js';
import { evidenceAllowsAdvance, holdMessage, recordRound, summarize, untilNextRound, type AnalysisRound } from './analysis-rules.js';

export interface ReleaseSnapshot {
  generation: number;
  deleting: boolean;
  hasFinalizer: boolean;
  annotations: Record<string, string>;
  spec: SpecValidation;
  status: CanaryReleaseStatus;
}

export type TrafficObservation = { ok: true; routes: ManagedRoute[] } | { ok: false; reason: Reason; message: string };

export interface Observations {
  /** The managed route(s) of the release in effect; undefined when no release can be targeted. */
  traffic?: TrafficObservation | undefined;
  /** Whether the workload behind the canary subset has available replicas. */
  canary?: { available: boolean; message: string } | undefined;
  /** A fresh analysis round, present when the shell ran one (see analysisDue). */
  analysis?: AnalysisRound | undefined;
}

export interface DecisionEvent {
  type: 'Normal' | 'Warning';
  reason: Reason;
  message: string;
}

export interface Decision {
  status: CanaryReleaseStatus;
  /** Canary percent to apply to the managed routes of the release in effect. */
  setCanaryPercent?: number | undefined;
  events: DecisionEvent[];
  requeueAfterMs?: number | undefined;
  finalizer?: 'add' | 'remove' | undefined;
}

/** Subsets of the release in effect: the status's once a release started, else the spec's. */
export function effectiveSubsets(snapshot: ReleaseSnapshot): { stable: string; canary: string } | undefined {
  const s = snapshot.status;
  if (s.stableSubset && s.canarySubset) return { stable: s.stableSubset, canary: s.canarySubset };
  if (snapshot.spec.ok) return { stable: snapshot.spec.spec.stable.subset, canary: snapshot.spec.spec.canary.subset };
  return undefined;
}

const UNROUTABLE_RETRY_MS = 30_000;
const CANARY_POLL_MS = 15_000;

export function decide(snap: ReleaseSnapshot, obs: Observations, now: Date): Decision {
  if (snap.deleting) return decideDeletion(snap, obs);
  const d = new DecisionBuilder(snap, now);
  if (!snap.hasFinalizer) d.finalizer = 'add';
  if (isFresh(snap.status)) {
    // Annotations an object is created with (say, left in git from an earlier release) are history, not requests.
    // Recorded before the spec check: the first status written for an invalid spec is no longer "fresh".
    for (const k of newRequests(snap)) d.handled(k);
  }
  if (!snap.spec.ok) return d.invalidSpec(describeProblems(snap.spec.problems));
  d.specValid();
  const spec = snap.spec.spec;
  const steps = planSteps(spec);
  const st = d.status;
  st.totalSteps = steps.length;

  // A spec naming other subsets starts a new release; an active one gives its traffic back first.
  if (st.stableSubset !== spec.stable.subset || st.canarySubset !== spec.canary.subset) {
    if (st.stableSubset && st.canarySubset && isActive(st.phase) && trafficMoved(st.canaryWeight, obs.traffic)) {
      if (!obs.traffic?.ok) return d.holdUnroutable(obs.traffic);
      d.setTraffic(obs.traffic.routes, 0);
      d.event('Normal', Reason.Superseded,
        `Release ${st.stableSubset} -> ${st.canarySubset} was replaced in the spec by ${spec.stable.subset} -> ${spec.canary.subset}: traffic returned to ${st.stableSubset}`);
    }
    d.startRelease(spec.stable.subset, spec.canary.subset);
    return d.done(0);
  }

  const requests = newRequests(snap);
  const phase = st.phase as Phase;

  if (isTerminal(phase)) {
    if (requests.has('retry')) {
      d.handled('retry');
      if (phase === Phase.Succeeded) {
        d.event('Normal', Reason.RequestIgnored, 'Retry ignored: the release already succeeded; retry restarts a rolled-back or failed release');
      } else {
        d.startRelease(st.stableSubset as string, st.canarySubset as string, true);
        return d.done(0);
      }
    }
    for (const k of ['promote', 'abort', 'resume'] as const) {
      if (requests.has(k)) {
        d.handled(k);
        d.event('Normal', Reason.RequestIgnored, `${capitalize(k)} ignored: the release has already ended (${phase})`);
      }
    }
    return d.done();
  }

  // Active phases (Pending, Progressing, Paused) from here on: they need the route.
  if (!obs.traffic?.ok) return d.holdUnroutable(obs.traffic);
  const routes = obs.traffic.routes;
  d.routable();
  d.canaryObserved(obs.canary);

  if (requests.has('retry')) {
    d.handled('retry');
    d.event('Normal', Reason.RequestIgnored, `Retry ignored: the release is ${phase}; retry restarts a rolled-back or failed release`);
  }
  if (requests.has('abort')) {
    d.handled('abort');
    if (requests.has('promote')) d.handled('promote');
    return d.rollBack(routes, Reason.Aborted, `Aborted on request at ${st.canaryWeight ?? 0}%: traffic back to 100% ${st.stableSubset}`);
  }
  if (requests.has('promote')) {
    d.handled('promote');
    if (!obs.canary?.available) {
      d.event('Warning', Reason.RequestIgnored,
        `Promote refused: the canary workload is not available (${obs.canary?.message ?? 'unknown'}); sending it all traffic would fail requests`);
    } else {
      return d.promote(routes, Reason.ManualPromotion, `Promoted on request: 100% of traffic to ${st.canarySubset}`);
    }
  }

  const pausedByAnalysis = phase === Phase.Paused && st.pausedBy === 'analysis';
  if (requests.has('resume')) {
    d.handled('resume');
    if (pausedByAnalysis) d.resume('Resumed on request after analysis paused the release');
    else d.event('Normal', Reason.RequestIgnored, `Resume ignored: the release is ${phase}${phase === Phase.Paused ? ' by spec.paused; set it to false' : ''}; resume continues a release that analysis paused`);
  } else if (pausedByAnalysis) {
    d.keepTraffic(routes);
    return d.done();
  }
  if (spec.paused) {
    if (st.phase !== Phase.Paused) {
      d.pause('spec', Reason.Paused, `Paused by spec.paused at ${st.canaryWeight ?? 0}%`,
        `Paused at step ${st.currentStep ?? 0}/${steps.length} with ${st.canaryWeight ?? 0}% of traffic on ${st.canarySubset}; set spec.paused to false to resume`);
    }
    d.keepTraffic(routes);
    return d.done();
  }
  if (st.phase === Phase.Paused) d.resume('Resumed');

  // Gates judge the canary while it has traffic; a failure beyond the limits ends or pauses the release.
  const analysis = spec.analysis;
  if (analysis && obs.analysis && st.phase === Phase.Progressing && (st.canaryWeight ?? 0) > 0) {
    const subsets = { stable: st.stableSubset as string, canary: st.canarySubset as string };
    const round = recordRound(analysis, st.analysis, obs.analysis, subsets);
    st.analysis = round.analysis;
    d.healthCondition(round.analysis.verdict, round.analysis.gates);
    for (const e of round.events) d.event(e.type, e.reason, e.message);
    if (round.failure) {
      if ((analysis.onFailure ?? 'rollback') === 'pause') {
        const text = `${round.failure.message}: paused at ${st.canaryWeight}% on ${st.canarySubset}`;
        d.pause('analysis', round.failure.reason, text,
          `${text}. Decide: kubectl annotate canaryrelease <name> ${REQUEST_ANNOTATIONS.resume}|${REQUEST_ANNOTATIONS.promote}|${REQUEST_ANNOTATIONS.abort}=$(date +%s) --overwrite`);
        d.event('Warning', round.failure.reason, text);
        d.keepTraffic(routes);
        return d.done();
      }
      return d.rollBack(routes, round.failure.reason, `${round.failure.message}: rolled back to ${st.stableSubset}`);
    }
  }

  const current = st.currentStep ?? 0;
  const step = current > 0 ? steps[Math.min(current, steps.length) - 1] : undefined;
  if (step) {
    const remaining = Date.parse(st.stepStartedAt ?? now.toISOString()) + step.durationMs - now.getTime();
    const nextRound = analysis ? untilNextRound(analysis, now) : undefined;
    if (remaining > 0 && current <= steps.length) {
      d.keepTraffic(routes);
      d.phaseConditions(Reason.StepInProgress, stepMessage(current, steps, st.canarySubset));
      const evidence = analysis && st.analysis && st.analysis.verdict !== GateVerdict.Pass ? `; ${holdMessage(st.analysis, analysis)}` : '';
      d.message(`${stepMessage(current, steps, st.canarySubset)}; next step after ${new Date(now.getTime() + remaining).toISOString()}${evidence}`);
      return d.done(Math.min(remaining, nextRound ?? remaining));
    }
    if (analysis && current <= steps.length && !evidenceAllowsAdvance(st.analysis, st.stepStartedAt)) {
      d.keepTraffic(routes);
      const text = `Step ${current}/${steps.length} held at ${st.canaryWeight}% on ${st.canarySubset}: ${holdMessage(st.analysis, analysis)}`;
      d.phaseConditions(Reason.WaitingForAnalysis, text);
      d.message(text);
      return d.done(nextRound);
    }
  }
  return d.advance(routes, steps, current, obs.canary, spec.canaryReadyTimeout);
}

function decideDeletion(snap: ReleaseSnapshot, obs: Observations): Decision {
  const status = structuredClone(snap.status);
  if (!snap.hasFinalizer) return { status, events: [] };
  const events: DecisionEvent[] = [];
  const active = isActive(status.phase) && trafficMoved(status.canaryWeight, obs.traffic);
  if (!active) return { status, events, finalizer: 'remove' };
  if (obs.traffic?.ok) {
    const needsWrite = !routesAt(obs.traffic.routes, 0);
    events.push({ type: 'Normal', reason: Reason.TrafficRestored, message: `Deleted during the release: traffic returned to 100% ${status.stableSubset}` });
    return { status, events, finalizer: 'remove', setCanaryPercent: needsWrite ? 0 : undefined };
  }
  events.push({
    type: 'Warning',
    reason: obs.traffic?.reason ?? Reason.RouteNotFound,
    message: `Deleted during the release, but traffic could not be returned to ${status.stableSubset}: ${obs.traffic?.message ?? 'no route'}; check the VirtualService by hand`,
  });
  return { status, events, finalizer: 'remove' };
}

/**
 * Whether the release has sent the canary traffic: by its status, or by the
 * route (traffic is written before status, so a lost status write leaves the
 * route ahead of a Pending status).
 */
function trafficMoved(canaryWeight: number | undefined, traffic: TrafficObservation | undefined): boolean {
  return (canaryWeight ?? 0) > 0 || (traffic?.ok === true && !routesAt(traffic.routes, 0));
}

/** A release the operator has never written status for. */
function isFresh(status: CanaryReleaseStatus): boolean {
  return status.phase === undefined && status.stableSubset === undefined && status.handledRequests === undefined;
}

function isActive(phase: string | undefined): boolean {
  return phase === Phase.Pending || phase === Phase.Progressing || phase === Phase.Paused;
}

function newRequests(snap: ReleaseSnapshot): Set<RequestKind> {
  const out = new Set<RequestKind>();
  for (const k of REQUEST_KINDS) {
    const v = snap.annotations[REQUEST_ANNOTATIONS[k]];
    if (v && v !== snap.status.handledRequests?.[k]) out.add(k);
  }
  return out;
}

function stepMessage(current: number, steps: PlannedStep[], canary: string | undefined): string {
  const step = steps[current - 1];
  return `Step ${current}/${steps.length}: ${step?.weight ?? 0}% of traffic to ${canary} for ${formatDuration(step?.durationMs ?? 0)}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Accumulates one decision; each method is one rule, and done() returns it. */
class DecisionBuilder {
  readonly status: CanaryReleaseStatus;
  readonly events: DecisionEvent[] = [];
  private readonly updates: ConditionUpdate[] = [];
  private readonly dropped = new Set<string>();
  setCanaryPercent: number | undefined;
  finalizer: 'add' | undefined;

  constructor(private readonly snap: ReleaseSnapshot, private readonly now: Date) {
    this.status = structuredClone(snap.status);
    this.status.observedGeneration = snap.generation;
    this.status.phase ??= Phase.Pending;
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
    return {
      status: this.status,
      setCanaryPercent: this.setCanaryPercent,
      events: this.events,
      requeueAfterMs,
      finalizer: this.finalizer,
    };
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

  invalidSpec(problems: string): Decision {
    const prev = findCondition(this.snap.status.conditions, ConditionType.SpecValid);
    const held = isActive(this.status.phase) ? ` Traffic is held at ${this.status.canaryWeight ?? 0}% canary until the spec is fixed.` : '';
    this.condition(ConditionType.SpecValid, 'False', Reason.InvalidSpec, problems);
    this.message(`Invalid spec: ${problems}.${held}`);
    if (prev?.status !== 'False' || prev.message !== problems) {
      this.event('Warning', Reason.InvalidSpec, `Invalid spec, nothing was changed: ${problems}`);
    }
    if (!this.snap.status.conditions?.some((c) => c.type === ConditionType.Promoted)) {
      this.phaseConditions(Reason.InvalidSpec, 'The spec is invalid');
    }
    return this.done();
  }

  specValid(): void {
    const prev = findCondition(this.snap.status.conditions, ConditionType.SpecValid);
    this.condition(ConditionType.SpecValid, 'True', Reason.SpecValid, 'The spec is valid');
    if (prev?.status === 'False') this.event('Normal', Reason.SpecValid, 'The spec is valid again');
  }

  routable(): void {
    const prev = findCondition(this.snap.status.conditions, ConditionType.TrafficRoutable);
    this.condition(ConditionType.TrafficRoutable, 'True', Reason.Routable, 'The managed route was found');
    if (prev?.status === 'False') this.event('Normal', Reason.Routable, 'The managed route can be used again');
  }

  holdUnroutable(traffic: TrafficObservation | undefined): Decision {
    const reason = traffic && !traffic.ok ? traffic.reason : Reason.RouteNotFound;
    const text = traffic && !traffic.ok ? traffic.message : 'no route to manage';
    const prev = findCondition(this.snap.status.conditions, ConditionType.TrafficRoutable);
    this.condition(ConditionType.TrafficRoutable, 'False', reason, text);
    this.message(`Holding: ${text}. No traffic was moved.`);
    if (prev?.status !== 'False' || prev.message !== text) this.event('Warning', reason, `Holding, no traffic moved: ${text}`);
    return this.done(UNROUTABLE_RETRY_MS);
  }

  canaryObserved(canary: Observations['canary']): void {
    if (!canary) return;
    this.condition(ConditionType.CanaryAvailable, canary.available ? 'True' : 'False',
      canary.available ? Reason.CanaryAvailable : Reason.CanaryUnavailable, canary.message);
  }

  setTraffic(routes: ManagedRoute[], percent: number): void {
    this.status.canaryWeight = percent;
    this.setCanaryPercent = routesAt(routes, percent) ? undefined : percent;
  }

  /** Keeps the route at the release's weight; someone else's edit is undone and reported. */
  keepTraffic(routes: ManagedRoute[]): void {
    const want = this.status.canaryWeight ?? 0;
    if (this.status.currentStep === undefined || this.status.currentStep === 0) return;
    if (routesAt(routes, want)) return;
    const seen = routes.map((r) => `${this.status.stableSubset}=${r.stableWeight}, ${this.status.canarySubset}=${r.canaryWeight}`).join('; ');
    this.setCanaryPercent = want;
    this.event('Warning', Reason.TrafficDrift,
      `The managed route's weights were changed outside the operator (${seen}); re-applied ${100 - want}/${want}. Stop other tools from writing these weights (see the GitOps notes)`);
  }

  startRelease(stable: string, canary: string, retry = false): void {
    const st = this.status;
    const handled = st.handledRequests;
    for (const k of Object.keys(st) as (keyof CanaryReleaseStatus)[]) {
      if (!['observedGeneration', 'conditions', 'handledRequests', 'totalSteps'].includes(k)) delete st[k];
    }
    Object.assign(st, {
      phase: Phase.Pending,
      stableSubset: stable,
      canarySubset: canary,
      currentStep: 0,
      canaryWeight: 0,
      releaseStartedAt: this.now.toISOString(),
      handledRequests: handled,
    });
    if (!handled) delete st.handledRequests;
    // The previous release's health says nothing about this one.
    this.dropped.add(ConditionType.Healthy);
    const what = `${stable} -> ${canary}`;
    this.phaseConditions(retry ? Reason.Retried : Reason.Started, `Release ${what} started`);
    this.message(`Release ${what} ${retry ? 'restarted on request' : 'started'}; checking the canary workload before moving traffic`);
    this.event('Normal', retry ? Reason.Retried : Reason.Started, `Release ${what} ${retry ? 'restarted on request' : 'started'}`);
  }

  rollBack(routes: ManagedRoute[], reason: Reason, text: string): Decision {
    this.setTraffic(routes, 0);
    this.finish(Phase.RolledBack, reason, text);
    this.event('Warning', reason, text);
    return this.done();
  }

  promote(routes: ManagedRoute[], reason: Reason, text: string): Decision {
    this.setTraffic(routes, 100);
    this.finish(Phase.Succeeded, reason, text);
    this.event('Normal', reason, text);
    return this.done();
  }

  private finish(phase: Phase, reason: Reason, text: string): void {
    this.status.phase = phase;
    this.status.completedAt = this.now.toISOString();
    delete this.status.pausedAt;
    delete this.status.canaryWaitingSince;
    this.phaseConditions(reason, text);
    this.message(text);
  }

  /** Moves to the step after `current` (1-based; 0 = not started) once the canary can take it. */
  advance(routes: ManagedRoute[], steps: PlannedStep[], current: number, canary: Observations['canary'], timeout: string | undefined): Decision {
    const st = this.status;
    const nextIndex = Math.min(current, steps.length - 1);
    const next = steps[nextIndex] as PlannedStep;
    if (!canary?.available) {
      const since = st.canaryWaitingSince ?? this.now.toISOString();
      const limit = parseDuration(timeout ?? DEFAULTS.canaryReadyTimeout) ?? 0;
      const left = Date.parse(since) + limit - this.now.getTime();
      const detail = canary?.message ?? 'not checked';
      if (left <= 0) {
        const waited = formatDuration(limit);
        if ((st.canaryWeight ?? 0) > 0 || !routesAt(routes, 0)) {
          return this.rollBack(routes, Reason.CanaryUnavailable,
            `The canary workload (${st.canarySubset}) was not available for ${waited} (${detail}): rolled back to 100% ${st.stableSubset}. Fix it, then retry`);
        }
        this.finish(Phase.Failed, Reason.CanaryReadyTimeout,
          `The canary workload (${st.canarySubset}) did not become available within ${waited} (${detail}); no traffic was moved. Fix it, then retry with: kubectl annotate canaryrelease <name> ${REQUEST_ANNOTATIONS.retry}=$(date +%s) --overwrite`);
        this.event('Warning', Reason.CanaryReadyTimeout, st.message as string);
        return this.done();
      }
      if (!st.canaryWaitingSince) this.event('Normal', Reason.WaitingForCanary, `Waiting for the canary workload (${st.canarySubset}) before sending it traffic: ${detail}`);
      st.canaryWaitingSince = since;
      this.keepTraffic(routes);
      const msg = `Waiting for the canary workload (${st.canarySubset}) to be available before step ${nextIndex + 1}/${steps.length}: ${detail}. Gives up at ${new Date(Date.parse(since) + limit).toISOString()}`;
      this.phaseConditions(Reason.WaitingForCanary, msg);
      this.message(msg);
      return this.done(Math.min(left, CANARY_POLL_MS));
    }
    delete st.canaryWaitingSince;
    if (next.weight >= 100) {
      st.currentStep = steps.length;
      return this.promote(routes, Reason.Promoted, `Promoted: 100% of traffic to ${st.canarySubset} after ${steps.length - 1} step(s)`);
    }
    this.setTraffic(routes, next.weight);
    st.currentStep = nextIndex + 1;
    st.phase = Phase.Progressing;
    st.stepStartedAt = this.now.toISOString();
    const text = stepMessage(nextIndex + 1, steps, st.canarySubset);
    this.phaseConditions(Reason.StepInProgress, text);
    this.message(`${text}; next step after ${new Date(this.now.getTime() + next.durationMs).toISOString()}`);
    this.event('Normal', Reason.StepAdvanced, `${text} (${st.stableSubset} gets ${100 - next.weight}%)`);
    return this.done(next.durationMs);
  }

  pause(by: 'spec' | 'analysis', reason: Reason, conditionText: string, message: string): void {
    this.status.phase = Phase.Paused;
    this.status.pausedAt = this.now.toISOString();
    this.status.pausedBy = by;
    this.phaseConditions(reason, conditionText);
    this.message(message);
    if (by === 'spec') this.event('Normal', Reason.Paused, `Paused at ${this.status.canaryWeight ?? 0}% of traffic on ${this.status.canarySubset}`);
  }

  /** Leaves a pause; the paused time does not count towards the step or the canary wait. */
  resume(text: string): void {
    const st = this.status;
    const pausedFor = st.pausedAt ? this.now.getTime() - Date.parse(st.pausedAt) : 0;
    const shift = (t: string) => new Date(Date.parse(t) + Math.max(0, pausedFor)).toISOString();
    if (st.stepStartedAt) st.stepStartedAt = shift(st.stepStartedAt);
    if (st.canaryWaitingSince) st.canaryWaitingSince = shift(st.canaryWaitingSince);
    // A person looked and chose to go on: the evidence starts afresh.
    if (st.pausedBy === 'analysis') delete st.analysis;
    delete st.pausedAt;
    delete st.pausedBy;
    st.phase = (st.currentStep ?? 0) > 0 ? Phase.Progressing : Phase.Pending;
    this.event('Normal', Reason.Resumed, `${text} at ${st.canaryWeight ?? 0}% after a pause of ${formatDuration(pausedFor)}`);
  }

  healthCondition(verdict: GateVerdict, gates: GateResult[]): void {
    const status = verdict === GateVerdict.Pass ? 'True' : verdict === GateVerdict.Fail ? 'False' : 'Unknown';
    const reason = verdict === GateVerdict.Pass ? Reason.GatesPassed : verdict === GateVerdict.Fail ? Reason.GateFailed
      : verdict === GateVerdict.Error ? Reason.MetricsUnavailable : Reason.AnalysisInconclusive;
    this.condition(ConditionType.Healthy, status, reason, summarize(gates, verdict));
  }
}
