// The spec resolved once: defaults applied, durations in milliseconds. The
// decision function, the analysis rules and the analysis runner all read this
// plan, so a default or a bound is stated in one place.
import { ANALYSIS_DEFAULTS, type Gate } from '../api/analysis-spec.js';
import { DEFAULTS, type CanaryReleaseSpec } from '../api/spec.js';
import { parseDuration } from './duration.js';
import { planSteps, type PlannedStep } from './steps.js';

/** Which route a release drives: the spec fields that name it. A release in effect keeps its own copy in status. */
export interface RouteRef {
  service: string;
  virtualService: { name: string; routes?: string[] | undefined };
  destinationRule: { name: string };
}

export interface AnalysisPlan {
  /** Prometheus base URL: the spec's, else the operator's default; undefined when neither is set. */
  address: string | undefined;
  timeoutMs: number;
  intervalMs: number;
  windowMs: number;
  /** The window as the user wrote it, for messages. */
  window: string;
  minRequests: number;
  failureLimit: number;
  onFailure: 'rollback' | 'pause';
  onInconclusive: 'rollback' | 'pause';
  inconclusiveTimeoutMs: number;
  prometheusErrorTimeoutMs: number;
  versionLabel: string;
  gates: Gate[];
}

export interface ReleasePlan {
  target: RouteRef;
  stable: string;
  canary: string;
  steps: PlannedStep[];
  paused: boolean;
  canaryReadyTimeoutMs: number;
  canaryUnavailableTimeoutMs: number;
  analysis?: AnalysisPlan | undefined;
}

export interface PlanDefaults {
  /** The operator's PROMETHEUS_ADDRESS. */
  prometheusAddress?: string | undefined;
}

const ms = (text: string | undefined, fallback: string): number => parseDuration(text ?? fallback) ?? (parseDuration(fallback) as number);

export function routeRefOf(spec: CanaryReleaseSpec): RouteRef {
  const routes = spec.virtualService.routes;
  return {
    service: spec.service,
    virtualService: routes ? { name: spec.virtualService.name, routes: [...routes] } : { name: spec.virtualService.name },
    destinationRule: { name: spec.destinationRule.name },
  };
}

export function resolvePlan(spec: CanaryReleaseSpec, defaults: PlanDefaults = {}): ReleasePlan {
  const a = spec.analysis;
  const D = ANALYSIS_DEFAULTS;
  return {
    target: routeRefOf(spec),
    stable: spec.stable.subset,
    canary: spec.canary.subset,
    steps: planSteps(spec),
    paused: spec.paused === true,
    canaryReadyTimeoutMs: ms(spec.canaryReadyTimeout, DEFAULTS.canaryReadyTimeout),
    canaryUnavailableTimeoutMs: ms(spec.canaryUnavailableTimeout, DEFAULTS.canaryUnavailableTimeout),
    analysis: a && {
      address: a.prometheus?.address ?? defaults.prometheusAddress,
      timeoutMs: ms(a.prometheus?.timeout, D.timeout),
      intervalMs: ms(a.interval, D.interval),
      windowMs: ms(a.window, D.window),
      window: a.window ?? D.window,
      minRequests: a.minRequests ?? D.minRequests,
      failureLimit: a.failureLimit ?? D.failureLimit,
      onFailure: a.onFailure ?? D.onFailure,
      onInconclusive: a.onInconclusive ?? D.onInconclusive,
      inconclusiveTimeoutMs: ms(a.inconclusiveTimeout, D.inconclusiveTimeout),
      prometheusErrorTimeoutMs: ms(a.prometheusErrorTimeout, D.prometheusErrorTimeout),
      versionLabel: a.versionLabel ?? D.versionLabel,
      gates: a.gates,
    },
  };
}
