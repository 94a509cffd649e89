// The small interfaces between the reconciler and the world; one adapter each
// (kube/, traffic/<provider>/, analysis/), and fakes in unit tests. The core sees none of
// the providers' shapes: routes come back as RouteObservations (percents).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { AnalysisTarget } from '../analysis/analysis-runner.js';
import type { AnalysisRound } from '../core/analysis-rules.js';
import type { DecisionEvent, PreflightResult } from '../core/decide.js';
import type { AnalysisPlan, RouteRef } from '../core/plan.js';
import type { RouteObservation, WorkloadState } from '../core/traffic.js';
import type { Dataplane } from '../traffic/dataplane.js';

export interface CanaryReleaseObject extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

/** Where a release's traffic lives: its route, as its provider named it, and the two versions on it. */
export interface TrafficTarget {
  namespace: string;
  ref: RouteRef;
  /** The versions: Istio subset names, or Gateway API backend Service names. */
  stable: string;
  canary: string;
}

/**
 * Where one version's pods and metrics are: the Service whose selector finds
 * its pods (plus, for an Istio subset, the subset's labels), and how gates tell
 * its requests apart (by destination_version, or by destination_service_name).
 */
export interface WorkloadRef {
  service: string;
  labels: Record<string, string>;
  identifiedBy: 'version' | 'service';
}

export interface ReleaseStore {
  get(namespace: string, name: string): CanaryReleaseObject | undefined;
  /** The releases of a namespace as this process last saw or wrote them. */
  list(namespace: string): ReadonlyArray<CanaryReleaseObject>;
  /** Replaces the status; fails with a conflict when the object changed since it was read. */
  writeStatus(release: CanaryReleaseObject, status: CanaryReleaseStatus): Promise<CanaryReleaseObject>;
  addFinalizer(release: CanaryReleaseObject): Promise<CanaryReleaseObject>;
  removeFinalizer(release: CanaryReleaseObject): Promise<void>;
}

export interface TrafficRouter {
  /** The managed route(s) as they are now, and where the two versions' pods and metrics are. */
  observe(target: TrafficTarget): TrafficObservation;
  /**
   * Sets the canary's share of the managed route(s); a no-op when already there.
   * The intent is in the status already, so a write that loses a race is
   * retried on the live object rather than given up.
   */
  setCanaryPercent(target: TrafficTarget, percent: number): Promise<'written' | 'unchanged'>;
}

export interface TrafficObservation {
  route: RouteObservation;
  /** Present once both versions are defined (an Istio subset in the DestinationRule, a Gateway API Service). */
  workloads?: { stable: WorkloadRef; canary: WorkloadRef } | undefined;
  /** Other providers' routes for the same Service (a VirtualService beside an HTTPRoute): a known pitfall, reported. */
  conflicts?: string[] | undefined;
  /** The Istio data plane of the routed Service (ambient: metrics come from its waypoint). */
  dataplane?: Dataplane | undefined;
}

export interface WorkloadProbe {
  /** Whether a Deployment behind the workload's Service selector plus its labels has available replicas. */
  check(namespace: string, workload: WorkloadRef): WorkloadState;
}

/** Runs one analysis round of a release's gates at evaluation time `at` (Prometheus in production). */
export interface AnalysisProvider {
  run(plan: AnalysisPlan, target: AnalysisTarget, at: Date): Promise<AnalysisRound>;
  /** Checks made before the first traffic move: Prometheus answers, the subsets carry the version label. */
  preflight(plan: AnalysisPlan, target: AnalysisTarget): Promise<PreflightResult>;
  /**
   * The same checks decided without a query when that is enough: a subset without the label fails at once,
   * and a test query the same address answered within maxAgeMs (another release's preflight, a real round
   * trip, the latest one) passes. undefined when a query is needed.
   */
  preflightFromRecent?(plan: AnalysisPlan, target: AnalysisTarget, maxAgeMs: number): PreflightResult | undefined;
}

export interface EventRecorder {
  record(release: CanaryReleaseObject, event: DecisionEvent): Promise<void>;
}

/** A write lost a race with another writer; the reconcile is retried on fresh state. */
export class ConflictError extends Error {
  constructor(what: string) {
    super(`${what} changed while it was being updated; retrying on fresh state`);
    this.name = 'ConflictError';
  }
}
