// The small interfaces between the reconciler and the world; one adapter each
// (kube/ and mesh/), and fakes in unit tests.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { CanaryReleaseStatus } from '../api/status.js';
import type { AnalysisSpec } from '../api/analysis-spec.js';
import type { AnalysisTarget } from '../analysis/analysis-runner.js';
import type { AnalysisRound } from '../core/analysis-rules.js';
import type { DecisionEvent, TrafficObservation } from '../core/decide.js';

export interface CanaryReleaseObject extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

/** Where a release's traffic lives: the Istio objects and the two subsets. */
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
  /** Replaces the status; fails with a conflict when the object changed since it was read. */
  writeStatus(release: CanaryReleaseObject, status: CanaryReleaseStatus): Promise<CanaryReleaseObject>;
  addFinalizer(release: CanaryReleaseObject): Promise<CanaryReleaseObject>;
  removeFinalizer(release: CanaryReleaseObject): Promise<void>;
}

export interface TrafficRouter {
  /** The managed route(s) as they are now, and the canary subset's pod labels. */
  observe(target: TrafficTarget): { traffic: TrafficObservation; subsetLabels?: { stable: Record<string, string>; canary: Record<string, string> } | undefined };
  /** Sets the canary's share of the managed route(s); a no-op when already there. */
  setCanaryPercent(target: TrafficTarget, percent: number): Promise<'written' | 'unchanged'>;
}

export interface CanaryWorkloadProbe {
  /** Whether a Deployment behind the service's selector plus the subset's labels has available replicas. */
  check(namespace: string, service: string, subsetLabels: Record<string, string>): { available: boolean; message: string };
}

/** Runs one analysis round of a release's gates (Prometheus in production). */
export interface AnalysisProvider {
  run(spec: AnalysisSpec, target: AnalysisTarget): Promise<AnalysisRound>;
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
