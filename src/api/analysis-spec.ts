// spec.analysis: the gates checked against Istio's metrics in Prometheus at
// every step, and what to do when they fail or cannot say.
import { z } from 'zod';
import { durationString } from './spec-primitives.js';

export const PERCENT_PATTERN = '^[0-9]+(\\.[0-9]+)?%$';
const percent = z
  .string({ error: 'must be a percentage string such as "1%" or "0.5%"' })
  .regex(new RegExp(PERCENT_PATTERN), 'must be a percentage string such as "1%" or "0.5%"');

const positive = (what: string) => z.number({ error: `must be a number (${what})` }).positive('must be greater than 0');

export const ErrorRateGateSchema = z.object({
  /** Highest acceptable share of 5xx responses of the canary. */
  max: percent.optional(),
  /** Highest acceptable excess of the canary's 5xx share over stable's, measured in the same window. */
  maxIncreaseOverStable: percent.optional(),
});

export const LatencyGateSchema = z.object({
  percentile: z.number({ error: 'must be a number between 1 and 99.99' }).min(1, 'must be at least 1').max(99.99, 'must be at most 99.99'),
  maxMs: positive('milliseconds').optional(),
  /** Highest acceptable excess of the canary's latency over stable's, in milliseconds. */
  maxIncreaseOverStableMs: positive('milliseconds').optional(),
});

export const GateSchema = z.object({
  name: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(63, 'must be at most 63 characters')
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lowercase letters, digits and "-")'),
  errorRate: ErrorRateGateSchema.optional(),
  latency: LatencyGateSchema.optional(),
  /** A PromQL template with {{namespace}}, {{service}}, {{version}}, {{stableVersion}}, {{window}}; must return one value. */
  query: z.string().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters').optional(),
  max: z.number({ error: 'must be a number' }).optional(),
  min: z.number({ error: 'must be a number' }).optional(),
});
export type Gate = z.infer<typeof GateSchema>;

export const AnalysisSpecSchema = z.object({
  prometheus: z
    .object({
      address: z.url({ error: 'must be an http(s) URL such as http://prometheus.istio-system:9090' }).optional(),
      timeout: durationString.optional(),
    })
    .optional(),
  interval: durationString.optional(),
  window: durationString.optional(),
  minRequests: z.number().int('must be a whole number').min(0, 'must be at least 0').optional(),
  failureLimit: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  onFailure: z.enum(['rollback', 'pause'], { error: 'must be "rollback" or "pause"' }).optional(),
  inconclusiveTimeout: durationString.optional(),
  prometheusErrorTimeout: durationString.optional(),
  /** The DestinationRule subset label whose value is Istio's destination_version. */
  versionLabel: z.string().min(1).max(63).optional(),
  gates: z.array(GateSchema).min(1, 'must have at least one gate').max(20, 'must have at most 20 gates'),
});
export type AnalysisSpec = z.infer<typeof AnalysisSpecSchema>;

export const ANALYSIS_DEFAULTS = {
  timeout: '5s',
  interval: '30s',
  window: '1m',
  minRequests: 50,
  failureLimit: 3,
  onFailure: 'rollback',
  inconclusiveTimeout: '30m',
  prometheusErrorTimeout: '15m',
  versionLabel: 'version',
} as const;
