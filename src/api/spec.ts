// The CanaryRelease spec as zod schemas. The CRD's OpenAPI schema states the
// same per-field rules; validate.ts adds the cross-field rules neither can express.
import { z } from 'zod';
import { AnalysisSpecSchema } from './analysis-spec.js';
import { ROUTE_SPEC_FIELDS } from '../traffic/route-spec-fields.js';
import { dnsLabel, durationString } from './spec-primitives.js';

export { durationString };

const weight = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(100, 'must be at most 100');

export const StepSchema = z.object({
  weight,
  duration: durationString.optional(),
});

/** One version of the workload: an Istio DestinationRule subset, or (Gateway API) a backend Service. */
export const VersionRefSchema = z.object({
  subset: dnsLabel('a DestinationRule subset name').optional(),
  service: dnsLabel('a Service name').optional(),
});

export const CanaryReleaseSpecSchema = z.object({
  // The route: exactly one traffic provider's section (see src/traffic/registry.ts).
  ...ROUTE_SPEC_FIELDS,
  stable: VersionRefSchema,
  canary: VersionRefSchema,
  steps: z.array(StepSchema).min(1, 'must have at least one step').max(50, 'must have at most 50 steps').optional(),
  stepWeight: weight.max(99, 'must be at most 99').optional(),
  maxWeight: weight.optional(),
  stepDuration: durationString.optional(),
  paused: z.boolean({ error: 'must be true or false' }).optional(),
  canaryReadyTimeout: durationString.optional(),
  /** How long a canary that has traffic may be unable to serve (no available pods, or its subset gone) before its traffic goes back to stable. */
  canaryUnavailableTimeout: durationString.optional(),
  analysis: AnalysisSpecSchema.optional(),
});
export type CanaryReleaseSpec = z.infer<typeof CanaryReleaseSpecSchema>;

/** Only the fields that name the route and the versions. */
export const RouteSpecSchema = CanaryReleaseSpecSchema.pick({ ...Object.fromEntries(Object.keys(ROUTE_SPEC_FIELDS).map((k) => [k, true])), stable: true, canary: true } as Record<keyof typeof ROUTE_SPEC_FIELDS | 'stable' | 'canary', true>);

export const DEFAULTS = {
  stepDuration: '1m',
  maxWeight: 100,
  canaryReadyTimeout: '10m',
  canaryUnavailableTimeout: '1m',
  /** Used when neither steps nor stepWeight is given. */
  steps: [
    { weight: 10, duration: '1m' },
    { weight: 50, duration: '1m' },
    { weight: 100 },
  ],
} as const;
