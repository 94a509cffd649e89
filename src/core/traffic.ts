// What the decision function sees of a release's route: percents, a revision
// and a description, never a provider's objects. Each traffic provider (one
// folder under src/traffic/) builds these from its own objects and applies
// the percents it is asked for.
import type { Reason } from '../api/conditions.js';

export interface RouteView {
  /** Whether every managed route carries exactly the weights the router writes for `percent` of the stable+canary share. */
  isAt(percent: number): boolean;
  /** Whether every managed route gives the canary at least what the router writes for `percent` (writing it would add nothing). */
  canaryAtLeast(percent: number): boolean;
  /** The canary's share (0-100, rounded) of the stable+canary traffic on the first managed route. */
  canaryPercent: number;
  /** Bumped by every change to the route object's spec (metadata.generation). */
  revision: number;
  /** The route object's identity (metadata.uid): a re-created object starts its revisions again. */
  uid: string;
  /** How the route splits its traffic now, for messages, e.g. 'route "primary": v1 90%, v2 10%'. */
  describe: string;
  /**
   * Whether the mesh has taken this revision (e.g. an HTTPRoute's status.parents
   * Accepted and ResolvedRefs for its generation). Absent: the provider cannot
   * tell, and a written route counts as applied.
   */
  applied?: { ok: boolean; message: string } | undefined;
}

export type RouteObservation =
  | { ok: true; view: RouteView }
  /**
   * The route cannot be used as it is. `view` is present when the route itself
   * was found (only the DestinationRule or a subset is missing): its weights
   * can still be written, which is how a canary that lost its subset gets its
   * traffic back.
   */
  | {
      ok: false;
      reason: Reason;
      message: string;
      view?: RouteView | undefined;
      /** Which subset the route can no longer reach (its subset or the whole DestinationRule is gone). */
      unreachable?: 'stable' | 'canary' | 'both' | undefined;
    };

export interface WorkloadState {
  available: boolean;
  message: string;
}
