// API identity of the CanaryRelease resource and the keys people and GitOps
// tools use to talk to the operator.
export const GROUP = 'canary-operator.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'CanaryRelease';
export const PLURAL = 'canaryreleases';

export const FINALIZER = `${GROUP}/restore-stable`;
export const COMPONENT = 'canary-operator';

/**
 * One-shot requests. A person (or git) sets the annotation to any new value;
 * the operator acts once per distinct value and records it in
 * status.handledRequests. The operator never writes these annotations, so a
 * GitOps tool sees no drift and the same value is never acted on twice.
 */
export const REQUEST_ANNOTATIONS = {
  promote: `${GROUP}/promote`,
  abort: `${GROUP}/abort`,
  retry: `${GROUP}/retry`,
  /** Continues a release that analysis paused (spec.analysis.onFailure: pause). */
  resume: `${GROUP}/resume`,
} as const;
export type RequestKind = keyof typeof REQUEST_ANNOTATIONS;
export const REQUEST_KINDS = Object.keys(REQUEST_ANNOTATIONS) as RequestKind[];
