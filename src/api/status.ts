// The CanaryRelease status: all release progress lives here, so a restarted
// operator continues exactly where the last one stopped.
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

export const CanaryReleaseStatusSchema = z.object({
  phase: z.enum(Phase).optional(),
  message: z.string().optional(),
  observedGeneration: z.number().int().optional(),
  /** The subsets of the release in effect; a spec naming others starts a new release. */
  stableSubset: z.string().optional(),
  canarySubset: z.string().optional(),
  /** 1-based index of the step whose weight is applied; 0 before the first step. */
  currentStep: z.number().int().optional(),
  totalSteps: z.number().int().optional(),
  /** Percent of the managed route's stable+canary share that goes to the canary. */
  canaryWeight: z.number().int().optional(),
  releaseStartedAt: z.string().optional(),
  stepStartedAt: z.string().optional(),
  pausedAt: z.string().optional(),
  /** Who paused the release: spec.paused, or analysis with onFailure: pause (then only a person resumes it). */
  pausedBy: z.enum(['spec', 'analysis']).optional(),
  /** Since when the operator has been waiting for the canary workload to be available. */
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
