// The spec resolved once: defaults applied, durations in milliseconds. The
// decision function, the analysis rules and the analysis runner all read this
// plan, so a default or a bound is stated in one place.
import { ANALYSIS_DEFAULTS, type AnalysisSpec, type Gate } from '../api/analysis-spec.js';
import { DEFAULTS, type CanaryReleaseSpec } from '../api/spec.js';
import { parseDuration } from './duration.js';
import { planSteps, type PlannedStep } from './steps.js';

/**
 * Which route a release drives, as its traffic provider names it. The core
 * reads it only to compare routes and to name one in messages; what the
 * fields mean is the provider's business. A release in effect keeps its own
 * copy in status.
 */
export interface RouteRef {
  /** The provider that reads and writes the route (its registry name, e.g. 'istio', 'gateway-api'). */
  provider: string;
  /** The route object, in the release's namespace: its kind and name. */
  kind: string;
  name: string;
  /** The named rules managed within it; absent: the provider finds the rule. Releases share a route when these overlap. */
  rules?: string[] | undefined;
  /** What else tells the managed traffic apart within the object (e.g. the Istio host); compared whole. */
  scope: Record<string, string>;
  /** Other objects the provider reads for it (e.g. the DestinationRule); a change makes a new release, not another route. */
  uses: Record<string, string>;
}

/** A route and the two versions on it: Istio subsets, or Gateway API backend Services. */
export interface ResolvedRoute {
  ref: RouteRef;
  stable: string;
  canary: string;
}

/** The route in messages: 'VirtualService bookinfo/reviews route "primary"'. */
export function describeRoute(ref: RouteRef, namespace?: string): string {
  const where = namespace ? `${namespace}/${ref.name}` : ref.name;
  const rules = ref.rules?.length ? ` ${ref.rules.length > 1 ? 'routes' : 'route'} ${ref.rules.map((r) => `"${r}"`).join(', ')}` : '';
  return `${ref.kind} ${where}${rules}`;
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
  /** Whose metrics the gates read; 'auto' is settled per round from the workload's data plane. */
  reporter: 'auto' | 'destination' | 'waypoint' | 'source';
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

/** The plan of a valid spec whose route its traffic provider resolved. */
export function resolvePlan(spec: CanaryReleaseSpec, route: ResolvedRoute, defaults: PlanDefaults = {}): ReleasePlan {
  return {
    target: route.ref,
    stable: route.stable,
    canary: route.canary,
    steps: planSteps(spec),
    paused: spec.paused === true,
    canaryReadyTimeoutMs: ms(spec.canaryReadyTimeout, DEFAULTS.canaryReadyTimeout),
    canaryUnavailableTimeoutMs: ms(spec.canaryUnavailableTimeout, DEFAULTS.canaryUnavailableTimeout),
    analysis: resolveAnalysis(spec.analysis, defaults),
  };
}

/** The analysis section resolved: defaults applied, durations in ms. */
export function resolveAnalysis(a: AnalysisSpec | undefined, defaults: PlanDefaults = {}): AnalysisPlan | undefined {
  const D = ANALYSIS_DEFAULTS;
  return a && {
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
    reporter: a.reporter ?? D.reporter,
    gates: a.gates,
  };
}
