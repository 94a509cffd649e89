// Every phase, condition type and reason the operator writes, in one place.
export const Phase = {
  Pending: 'Pending',
  Progressing: 'Progressing',
  Paused: 'Paused',
  Succeeded: 'Succeeded',
  RolledBack: 'RolledBack',
  Failed: 'Failed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];
export const PHASES = Object.values(Phase);
export const TERMINAL_PHASES: readonly Phase[] = [Phase.Succeeded, Phase.RolledBack, Phase.Failed];
export const isTerminal = (p: Phase | undefined): boolean => p !== undefined && TERMINAL_PHASES.includes(p);
/** Pending, Progressing or Paused: a release that may still move traffic. */
export const isActive = (p: string | undefined): boolean => p === Phase.Pending || p === Phase.Progressing || p === Phase.Paused;

export const ConditionType = {
  /** True once the canary has all traffic; `kubectl wait --for=condition=Promoted`. */
  Promoted: 'Promoted',
  /** True while the release is moving (or waiting to move) by itself. */
  Progressing: 'Progressing',
  /** False when the spec breaks a rule; the message names the field. */
  SpecValid: 'SpecValid',
  /** False when the VirtualService, DestinationRule, subsets or route cannot be used. */
  TrafficRoutable: 'TrafficRoutable',
  /** Whether the workload behind the canary subset has available replicas. */
  CanaryAvailable: 'CanaryAvailable',
  /** The latest analysis round: True when every gate passed, False when one failed, Unknown when it could not judge. */
  Healthy: 'Healthy',
  /** After a release ended: whether the route still has the weights the release left (False: someone changed it). */
  RouteInSync: 'RouteInSync',
  /** True when another provider's route (a VirtualService beside an HTTPRoute) also steers the release's Service. */
  RouteConflict: 'RouteConflict',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  // phase transitions
  Started: 'Started',
  StepAdvanced: 'StepAdvanced',
  Promoted: 'Promoted',
  ManualPromotion: 'ManualPromotion',
  Aborted: 'Aborted',
  Retried: 'Retried',
  Paused: 'Paused',
  Resumed: 'Resumed',
  Superseded: 'Superseded',
  AlreadyPromoted: 'AlreadyPromoted',
  RolledBack: 'RolledBack',
  NotPromoted: 'NotPromoted',
  // waiting and refusals
  WaitingForCanary: 'WaitingForCanary',
  CanaryAvailable: 'CanaryAvailable',
  CanaryUnavailable: 'CanaryUnavailable',
  CanaryReadyTimeout: 'CanaryReadyTimeout',
  WaitingForStable: 'WaitingForStable',
  RouteNotAtStart: 'RouteNotAtStart',
  PreflightFailed: 'PreflightFailed',
  WaitingForRestore: 'WaitingForRestore',
  StepInProgress: 'StepInProgress',
  InvalidSpec: 'InvalidSpec',
  SpecValid: 'SpecValid',
  RequestIgnored: 'RequestIgnored',
  // traffic
  Routable: 'Routable',
  VirtualServiceNotFound: 'VirtualServiceNotFound',
  DestinationRuleNotFound: 'DestinationRuleNotFound',
  SubsetNotFound: 'SubsetNotFound',
  RouteNotFound: 'RouteNotFound',
  RouteAmbiguous: 'RouteAmbiguous',
  /** The route's kind is not served by the cluster (its CRDs are not installed). */
  ProviderUnavailable: 'ProviderUnavailable',
  HTTPRouteNotFound: 'HTTPRouteNotFound',
  BackendServiceNotFound: 'BackendServiceNotFound',
  /** The mesh has not accepted the route's current generation yet (HTTPRoute status.parents). */
  RouteNotAccepted: 'RouteNotAccepted',
  /** Another provider's route steers the same Service. */
  ConflictingRoutes: 'ConflictingRoutes',
  NoConflictingRoutes: 'NoConflictingRoutes',
  /** Istio ambient without a waypoint: no L7 traffic split, no L7 metrics. */
  WaypointMissing: 'WaypointMissing',
  NoTrafficBudget: 'NoTrafficBudget',
  TrafficDrift: 'TrafficDrift',
  TrafficRestored: 'TrafficRestored',
  RouteInUse: 'RouteInUse',
  InSync: 'InSync',
  WriteConflict: 'WriteConflict',
  // analysis
  GatesPassed: 'GatesPassed',
  GateFailed: 'GateFailed',
  AnalysisFailed: 'AnalysisFailed',
  AnalysisInconclusive: 'AnalysisInconclusive',
  MetricsUnavailable: 'MetricsUnavailable',
  WaitingForAnalysis: 'WaitingForAnalysis',
  /** A sequential gate is gathering evidence at this step (the Healthy condition is Unknown meanwhile). */
  Judging: 'Judging',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
