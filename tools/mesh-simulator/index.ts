// The mesh simulator as a library: startSimulator() for tests and demos, and
// the pure pieces (routing, behaviour, sampling, metrics) for unit tests.
export { startSimulator, describePlan, type RunningSimulator } from './simulator.js';
export { parseCli, parseHost, validateOptions, DEFAULTS, USAGE, type HostConfig, type SimulatorOptions, type SourceConfig, type LogRecord, type SimulatorMode } from './config.js';
export {
  ANNOTATIONS,
  ANNOTATION_PREFIX,
  BUILTIN_BEHAVIOUR,
  CONFIGMAP_KEY,
  mergeBehaviour,
  parseBehaviourAnnotations,
  parseBehaviourConfigMap,
  resolveBehaviour,
  type Behaviour,
  type BehaviourPatch,
} from './behaviour.js';
export { ISTIO_DURATION_BUCKETS_MS, ISTIO_LABEL_NAMES, ISTIO_TCP_LABEL_NAMES, IstioMetrics, istioLabels, istioTcpLabels, type Reporter } from './istio-metrics.js';
export { selectVirtualService, splitTraffic, pickByShare, hostMatches, type TrafficSplit } from './routing.js';
export { selectHttpRoute, splitHttpRoute, isServiceParent, backendRefProblem, type HttpRouteLike, type HttpRouteSplit } from './http-route.js';
export { dataplaneOf, DATAPLANE_MODE_LABEL, USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL, type Dataplane, type Waypoint } from './dataplane.js';
export { desiredParents, sameParents, ISTIO_CONTROLLER_NAME, type RouteCondition, type RouteParentStatus } from './route-status.js';
export { fitLogNormal, outcomeSampler, sampleLatencyMs, sampleResponseCode } from './sampling.js';
export { mulberry32, deriveSeed } from './rng.js';
export { TrafficEngine, type ClusterView, type FollowedRoute, type HostPlan, type PlanEntry } from './traffic.js';
export { StaticTraffic, type PlannedHost } from './static-traffic.js';
export { BackgroundServices, BACKGROUND_DEFAULTS, type BackgroundOptions } from './background-services.js';
export { renderExposition, seriesLabels, STATIC_LABEL_NAMES, type ExpositionSource, type StaticSeries } from './static-exposition.js';
export { cumulativeBucketShares, latencyCdf, meanLatencyMs } from './latency-buckets.js';
