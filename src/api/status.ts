// The CanaryRelease status: all release progress lives here, so a restarted
// operator continues exactly where the last one stopped. The operator records
// what it intends to do with the route here *before* it writes the route
// (intent first): a crash or a failed write between the two leaves a status
// that says what the route must become, and the next reconcile finishes it.
import { z } from 'zod';
import { AnalysisStatusSchema } from './analysis-status.js';
import { Phase } from './conditions.js';

export const ConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof ConditionSchema>;

/** The route of a release as its traffic provider named it when the release started (core/plan.ts RouteRef). */
const NeutralRouteRefSchema = z.object({
  provider: z.string(),
  kind: z.string(),
  name: z.string(),
  rules: z.array(z.string()).optional(),
  scope: z.record(z.string(), z.string()),
  uses: z.record(z.string(), z.string()),
});

/**
 * Statuses written before routes were provider-neutral hold the Istio fields
 * themselves ({service, virtualService, destinationRule}); they are read as the
 * same route, so an upgrade mid-release neither loses nor replaces it.
 */
function fromIstioFields(v: unknown): unknown {
  const o = v as { provider?: unknown; service?: unknown; virtualService?: { name?: unknown; routes?: unknown }; destinationRule?: { name?: unknown } } | undefined;
  if (!o || typeof o !== 'object' || o.provider !== undefined || typeof o.virtualService?.name !== 'string') return v;
  const routes = Array.isArray(o.virtualService.routes) ? { rules: o.virtualService.routes } : {};
  return {
    provider: 'istio', kind: 'VirtualService', name: o.virtualService.name, ...routes,
    scope: { service: o.service }, uses: { destinationRule: o.destinationRule?.name },
  };
}

export const RouteRefSchema = z.preprocess(fromIstioFields, NeutralRouteRefSchema);

export const CanaryReleaseStatusSchema = z.object({
  phase: z.enum(Phase).optional(),
  /** What the release is doing or waiting for, in full. */
  message: z.string().optional(),
  /** The same in a few words, for the MESSAGE column of kubectl get. */
  summary: z.string().optional(),
  observedGeneration: z.number().int().optional(),
  /** The subsets of the release in effect; a spec naming others starts a new release. */
  stableSubset: z.string().optional(),
  canarySubset: z.string().optional(),
  /** The route of the release in effect; a spec naming another starts a new release. */
  target: RouteRefSchema.optional(),
  /** 1-based index of the step whose weight is applied; 0 before the first step. */
  currentStep: z.number().int().optional(),
  totalSteps: z.number().int().optional(),
  /** Percent of the managed route's stable+canary share that goes to the canary: what the route must show. */
  canaryWeight: z.number().int().optional(),
  /**
   * The route object's generation when the operator decided canaryWeight. While the route still has this
   * generation and other weights, the operator's own write is pending (not someone else's drift).
   */
  routeRevision: z.number().int().optional(),
  /** The route object's metadata.uid when canaryWeight was decided. */
  routeUid: z.string().optional(),
  /** The canary weight the route had when canaryWeight was decided (what a route waiting for that write still shows). */
  previousCanaryWeight: z.number().int().optional(),
  /** Since when this release holds its route: one release holds a route at a time (set before its first traffic move). */
  ownsRouteSince: z.string().optional(),
  /** A replaced release's route that must get all its traffic back on its stable subset. */
  restore: z
    .object({ target: RouteRefSchema, stableSubset: z.string(), canarySubset: z.string() })
    .optional(),
  releaseStartedAt: z.string().optional(),
  stepStartedAt: z.string().optional(),
  /** Analysis rounds count only when their whole window lies after this (the start, a retry or a resume). */
  measureFrom: z.string().optional(),
  pausedAt: z.string().optional(),
  /** Who paused the release: spec.paused, or analysis (onFailure/onInconclusive: pause; then only a person resumes it). */
  pausedBy: z.enum(['spec', 'analysis']).optional(),
  /** Since when a hold (canary unable to serve, route unusable, invalid spec) has stopped the step's clock. */
  heldSince: z.string().optional(),
  /** Since when the canary, while it has traffic, cannot serve; its traffic goes back at spec.canaryUnavailableTimeout. */
  canaryLostSince: z.string().optional(),
  /** Since when the operator has been waiting for the workloads to be available before the first traffic move. */
  canaryWaitingSince: z.string().optional(),
  completedAt: z.string().optional(),
  /** The last value of each request annotation that was acted on. */
  handledRequests: z
    .object({ promote: z.string().optional(), abort: z.string().optional(), retry: z.string().optional(), resume: z.string().optional() })
    .optional(),
  analysis: AnalysisStatusSchema.optional(),
  conditions: z.array(ConditionSchema).optional(),
});
export type CanaryReleaseStatus = z.infer<typeof CanaryReleaseStatusSchema>;
export type RouteRefStatus = z.infer<typeof RouteRefSchema>;
