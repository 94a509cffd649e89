// What the plugin needs from the cluster, as a port: the kube adapter in
// kube-release-api.ts, and fakes in the unit tests.
import type { CanaryReleaseStatus } from '../api/status.js';

/** A CanaryRelease as read from the API server (only the fields the plugin uses are typed). */
export interface ReleaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    annotations?: Record<string, string>;
  };
  spec?: {
    paused?: boolean;
    stable?: { subset?: string; service?: string };
    canary?: { subset?: string; service?: string };
    analysis?: { onFailure?: string; gates?: { name: string; errorRate?: unknown; latency?: unknown; query?: string; min?: number; max?: number; sequential?: unknown }[] };
    [k: string]: unknown;
  };
  status?: CanaryReleaseStatus;
}

/** A core/v1 Event about a release (timestamps arrive as Dates from client-node, strings from JSON). */
export interface ReleaseEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | Date;
  lastTimestamp?: string | Date;
  eventTime?: string | Date;
  metadata?: { name?: string; resourceVersion?: string; creationTimestamp?: string | Date };
  involvedObject?: { uid?: string; kind?: string; name?: string };
}

export interface ReleaseApi {
  get(namespace: string, name: string): Promise<ReleaseObject>;
  /** Releases of one namespace, or of all namespaces when namespace is undefined. */
  list(namespace: string | undefined): Promise<ReleaseObject[]>;
  /** One JSON merge patch (RFC 7386) of the release. */
  mergePatch(namespace: string, name: string, body: Record<string, unknown>): Promise<ReleaseObject>;
  events(release: ReleaseObject): Promise<ReleaseEvent[]>;
}
