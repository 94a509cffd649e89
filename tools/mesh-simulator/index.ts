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
export { ISTIO_DURATION_BUCKETS_MS, ISTIO_LABEL_NAMES, IstioMetrics, istioLabels } from './istio-metrics.js';
export { selectVirtualService, splitTraffic, pickByShare, hostMatches, type TrafficSplit } from './routing.js';
export { fitLogNormal, outcomeSampler, sampleLatencyMs, sampleResponseCode } from './sampling.js';
export { mulberry32, deriveSeed } from './rng.js';
export { TrafficEngine, type ClusterView, type HostPlan, type PlanEntry } from './traffic.js';
export { StaticTraffic, type PlannedHost } from './static-traffic.js';
export { BackgroundServices, BACKGROUND_DEFAULTS, type BackgroundOptions } from './background-services.js';
export { renderExposition, seriesLabels, STATIC_LABEL_NAMES, type ExpositionSource, type StaticSeries } from './static-exposition.js';
export { cumulativeBucketShares, latencyCdf, meanLatencyMs } from './latency-buckets.js';
