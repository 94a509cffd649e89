// The CanaryRelease spec as zod schemas. The CRD's OpenAPI schema states the
// same per-field rules; validate.ts adds the cross-field rules neither can express.
import { z } from 'zod';
import { AnalysisSpecSchema } from './analysis-spec.js';
import { durationString } from './spec-primitives.js';

export { durationString };

/** DNS-1123 label: Service names and Istio subset names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: object names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const label = (what: string) =>
  z
    .string({ error: `must be a string (${what})` })
    .min(1, 'must not be empty')
    .max(63, 'must be at most 63 characters')
    .regex(DNS_LABEL, 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit');

const objectName = z
  .string({ error: 'must be a string (an object name)' })
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")');

const weight = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(100, 'must be at most 100');

export const StepSchema = z.object({
  weight,
  duration: durationString.optional(),
});

export const SubsetRefSchema = z.object({ subset: label('a DestinationRule subset name') });

export const CanaryReleaseSpecSchema = z.object({
  service: label('a Service name'),
  virtualService: z.object({
    name: objectName,
    routes: z
      .array(z.string().min(1, 'must not be empty').max(253, 'must be at most 253 characters'))
      .min(1, 'must name at least one route when set')
      .max(16, 'must name at most 16 routes')
      .optional(),
  }),
  destinationRule: z.object({ name: objectName }),
  stable: SubsetRefSchema,
  canary: SubsetRefSchema,
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
