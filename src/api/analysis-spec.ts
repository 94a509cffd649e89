// spec.analysis: the gates checked against Istio's metrics in Prometheus at
// every step, and what to do when they fail or cannot say. Every number and
// duration has a bound (the CRD schema states the same ones).
import { z } from 'zod';
import { boundedDuration, durationString, DAY_MS } from './spec-primitives.js';
import { addressShapeProblem } from './prometheus-address.js';

export const PERCENT_PATTERN = '^[0-9]+(\\.[0-9]+)?%$';
const percent = z
  .string({ error: 'must be a percentage string such as "1%" or "0.5%"' })
  .max(16, 'must be at most 16 characters')
  .regex(new RegExp(PERCENT_PATTERN), 'must be a percentage string such as "1%" or "0.5%"')
  .refine((s) => Number(s.slice(0, -1)) <= 100, 'must be at most 100%');

/** Latency thresholds: up to an hour. */
export const MAX_LATENCY_MS = 3_600_000;
const latencyMs = (what: string) =>
  z.number({ error: `must be a number (${what})` }).positive('must be greater than 0').max(MAX_LATENCY_MS, `must be at most ${MAX_LATENCY_MS} (one hour)`);
/** Bounds of a custom query's max/min: any value a gate could sensibly compare with. */
export const MAX_QUERY_BOUND = 1e15;
const queryBound = z.number({ error: 'must be a number' }).min(-MAX_QUERY_BOUND, `must be at least -${MAX_QUERY_BOUND}`).max(MAX_QUERY_BOUND, `must be at most ${MAX_QUERY_BOUND}`);

export const ErrorRateGateSchema = z.object({
  /** Highest acceptable share of 5xx responses of the canary. */
  max: percent.optional(),
  /** Highest acceptable excess of the canary's 5xx share over stable's, measured in the same window. */
  maxIncreaseOverStable: percent.optional(),
});

export const LatencyGateSchema = z.object({
  percentile: z.number({ error: 'must be a number between 1 and 99.99' }).min(1, 'must be at least 1').max(99.99, 'must be at most 99.99'),
  maxMs: latencyMs('milliseconds').optional(),
  /** Highest acceptable excess of the canary's latency over stable's, in milliseconds. */
  maxIncreaseOverStableMs: latencyMs('milliseconds').optional(),
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
  query: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(4096, 'must be at most 4096 characters').optional(),
  max: queryBound.optional(),
  min: queryBound.optional(),
});
export type Gate = z.infer<typeof GateSchema>;

/**
 * Only http and https, no credentials, query or fragment (prometheus-address.ts, which also checks the
 * operator's allowlist); the CRD refuses other schemes at admission with a pattern.
 */
export const prometheusAddress = z
  .string({ error: 'must be an http(s) URL such as http://prometheus.istio-system:9090' })
  .max(2048, 'must be at most 2048 characters')
  .superRefine((s, ctx) => {
    const problem = addressShapeProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const onOutcome = (what: string) => z.enum(['rollback', 'pause'], { error: `must be "rollback" or "pause" (${what})` });

/** Kubernetes label key: an optional DNS prefix and a name of up to 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export const AnalysisSpecSchema = z.object({
  prometheus: z
    .object({
      address: prometheusAddress.optional(),
      timeout: boundedDuration(100, 60_000).optional(),
    })
    .optional(),
  interval: boundedDuration(1000, 3_600_000).optional(),
  window: boundedDuration(1000, DAY_MS).optional(),
  minRequests: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be at least 0').max(1_000_000, 'must be at most 1000000').optional(),
  failureLimit: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').optional(),
  onFailure: onOutcome('what a failing canary gets').optional(),
  /** What a release gets when rounds stay inconclusive or metrics unavailable past their timeouts. */
  onInconclusive: onOutcome('what a release without a verdict gets').optional(),
  inconclusiveTimeout: durationString.optional(),
  prometheusErrorTimeout: durationString.optional(),
  /** The DestinationRule subset label whose value is Istio's destination_version. */
  versionLabel: z.string({ error: 'must be a string' }).max(317, 'must be at most 317 characters').regex(LABEL_KEY, 'must be a Kubernetes label key such as "version"').optional(),
  /**
   * Whose Istio metrics the gates read: auto (the waypoint's in ambient mode, else the destination
   * sidecar's), destination, waypoint, or source (the caller's proxy).
   */
  reporter: z.enum(['auto', 'destination', 'waypoint', 'source'], { error: 'must be one of auto, destination, waypoint, source' }).optional(),
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
  onInconclusive: 'rollback',
  inconclusiveTimeout: '30m',
  prometheusErrorTimeout: '15m',
  versionLabel: 'version',
  reporter: 'auto',
} as const;
