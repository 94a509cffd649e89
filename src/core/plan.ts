// The spec resolved once: defaults applied, durations in milliseconds. The
// decision function, the analysis rules and the analysis runner all read this
// plan, so a default or a bound is stated in one place.
import { ANALYSIS_DEFAULTS, type AnalysisSpec, type Gate } from '../api/analysis-spec.js';
import { DEFAULTS, type CanaryReleaseSpec } from '../api/spec.js';
import { SEQUENTIAL_DEFAULTS, defaultPassRatio, perGateFalseRollbackRate } from '../analysis/sequential/sequential-config.js';
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
  /**
   * Where in each interval this release's rounds fall (0 <= offset < interval):
   * releases are spread over ROUND_SLOTS slots by their uid, so an interval
   * boundary is not a burst of every release at once; releases in one slot
   * share its queries.
   */
  roundOffsetMs: number;
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
  /** The gates with `sequential`, resolved: defaults applied and the false-rollback bound shared out. */
  sequential: SequentialGatePlan[];
}

export interface SequentialGatePlan {
  name: string;
  /** What is counted: 5xx responses, or requests slower than the latency boundary. */
  kind: 'errors' | 'slow';
  /** The tolerated canary/stable ratio of those events' shares. */
  maxRatio: number;
  /** Evidence for the canary rules out this ratio (not settable in the spec; the benchmark varies it). */
  passRatio: number;
  /** slow: the percentile whose stable boundary is counted against. */
  percentile?: number | undefined;
  /** slow: the histogram boundary from the spec; otherwise chosen from stable's history and kept in status. */
  boundaryMs?: number | undefined;
  /** This gate's bound on false rollbacks over the release (a fraction, e.g. 0.01). */
  falseRollbackRate: number;
  /** The chance that a canary at passRatio or worse passes a step early (not settable in the spec). */
  earlyPassErrorRate: number;
  /** Canary requests a step needs before the gate may pass it. */
  minRequests: number;
  /** At the step's end, hold while the evidence against exceeds this many times the evidence for (not settable in the spec). */
  holdAbove: number;
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
  /** What spreads the release's rounds over the interval (its uid); without it, rounds fall on multiples of the interval. */
  spreadKey?: string | undefined;
}

/**
 * Round slots per interval: at most 120, and at least 250 ms apart (an interval under 500 ms has one). A slot's
 * releases get their verdicts at once, and each then writes its status and route: at 1,000 releases and 30 slots
 * a boundary handed 25-47 releases their next step in the same second; at 120, about a quarter of that.
 */
export const ROUND_SLOTS = 120;
export const ROUND_SLOT_MIN_MS = 250;

/** The release's round offset within an interval: one of the interval's slots, chosen by a hash of the key. */
export function roundOffsetMs(intervalMs: number, key: string | undefined): number {
  const slots = Math.max(1, Math.min(ROUND_SLOTS, Math.floor(intervalMs / ROUND_SLOT_MIN_MS)));
  if (key === undefined || key === '' || slots === 1) return 0;
  return (fnv1a(key) % slots) * Math.floor(intervalMs / slots);
}

/** 32-bit FNV-1a: stable across restarts and processes, unlike anything seeded. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
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
    roundOffsetMs: roundOffsetMs(ms(a.interval, D.interval), defaults.spreadKey),
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
    sequential: sequentialPlan(a),
  };
}

const fraction = (percent: string) => Number(percent.slice(0, -1)) / 100;

/** Gates without their own falseRollbackRate share the release's equally (Bonferroni), so the sum stays within it. */
function sequentialPlan(a: AnalysisSpec): SequentialGatePlan[] {
  const gates = a.gates.filter((g) => g.sequential);
  const sharing = gates.filter((g) => g.sequential?.falseRollbackRate === undefined).length;
  const releaseRate = a.falseRollbackRate ? fraction(a.falseRollbackRate) : SEQUENTIAL_DEFAULTS.falseRollbackRate;
  return gates.map((g) => {
    const s = g.sequential as NonNullable<Gate['sequential']>;
    const maxRatio = (s.latency ? s.latency.maxRatioOverStable ?? SEQUENTIAL_DEFAULTS.latencyMaxRatio : s.errorRate?.maxRatioOverStable) ?? SEQUENTIAL_DEFAULTS.errorMaxRatio;
    return {
      name: g.name,
      kind: s.latency ? 'slow' : 'errors',
      maxRatio,
      passRatio: defaultPassRatio(maxRatio),
      percentile: s.latency?.percentile,
      boundaryMs: s.latency?.boundaryMs,
      falseRollbackRate: s.falseRollbackRate ? fraction(s.falseRollbackRate) : perGateFalseRollbackRate(releaseRate, sharing),
      earlyPassErrorRate: SEQUENTIAL_DEFAULTS.earlyPassErrorRate,
      minRequests: s.minRequests ?? SEQUENTIAL_DEFAULTS.minRequests,
      holdAbove: SEQUENTIAL_DEFAULTS.holdAbove,
    };
  });
}
