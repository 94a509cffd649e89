// The small interfaces between the reconciler and the world; one adapter each
// (kube/, mesh/, analysis/), and fakes in unit tests. The core sees none of
// the providers' shapes: routes come back as RouteObservations (percents).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { AnalysisTarget } from '../analysis/analysis-runner.js';
import type { AnalysisRound } from '../core/analysis-rules.js';
import type { DecisionEvent, PreflightResult } from '../core/decide.js';
import type { AnalysisPlan } from '../core/plan.js';
import type { RouteObservation, WorkloadState } from '../core/traffic.js';

export interface CanaryReleaseObject extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

/** Where a release's traffic lives: the route objects and the two subsets. */
export interface TrafficTarget {
  namespace: string;
  service: string;
  virtualService: string;
  destinationRule: string;
  routeNames?: string[] | undefined;
  stableSubset: string;
  canarySubset: string;
}

export interface ReleaseStore {
  get(namespace: string, name: string): CanaryReleaseObject | undefined;
  /** The releases of a namespace as this process last saw or wrote them. */
  list(namespace: string): CanaryReleaseObject[];
  /** Replaces the status; fails with a conflict when the object changed since it was read. */
  writeStatus(release: CanaryReleaseObject, status: CanaryReleaseStatus): Promise<CanaryReleaseObject>;
  addFinalizer(release: CanaryReleaseObject): Promise<CanaryReleaseObject>;
  removeFinalizer(release: CanaryReleaseObject): Promise<void>;
}

export interface TrafficRouter {
  /** The managed route(s) as they are now, and the subsets' pod labels. */
  observe(target: TrafficTarget): { route: RouteObservation; subsetLabels?: { stable: Record<string, string>; canary: Record<string, string> } | undefined };
  /**
   * Sets the canary's share of the managed route(s); a no-op when already there.
   * The intent is in the status already, so a write that loses a race is
   * retried on the live object rather than given up.
   */
  setCanaryPercent(target: TrafficTarget, percent: number): Promise<'written' | 'unchanged'>;
}

export interface WorkloadProbe {
  /** Whether a Deployment behind the service's selector plus the subset's labels has available replicas. */
  check(namespace: string, service: string, subsetLabels: Record<string, string>): WorkloadState;
}

/** Runs one analysis round of a release's gates at evaluation time `at` (Prometheus in production). */
export interface AnalysisProvider {
  run(plan: AnalysisPlan, target: AnalysisTarget, at: Date): Promise<AnalysisRound>;
  /** Checks made before the first traffic move: Prometheus answers, the subsets carry the version label. */
  preflight(plan: AnalysisPlan, target: AnalysisTarget): Promise<PreflightResult>;
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
