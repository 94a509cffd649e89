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

/** A multiple of stable's rate: 1 (no worse than stable) to 100. */
export const MAX_RATIO_OVER_STABLE = 100;
const ratioOverStable = z
  .number({ error: "must be a number (a multiple of stable's rate, e.g. 1.2)" })
  .min(1, 'must be at least 1 (as bad as stable)')
  .max(MAX_RATIO_OVER_STABLE, `must be at most ${MAX_RATIO_OVER_STABLE}`);

/** The chance that a canary within tolerance is ever rolled back, over the whole release: 0.01% to 10% (a bound of 10,000 to 10). */
export const FALSE_ROLLBACK_RATE_PERCENT = { min: 0.01, max: 10 } as const;
const falseRollbackRate = z
  .string({ error: 'must be a percentage string such as "1%" or "0.5%"' })
  .max(16, 'must be at most 16 characters')
  .regex(new RegExp(PERCENT_PATTERN), 'must be a percentage string such as "1%" or "0.5%"')
  .refine((s) => {
    // Not a percentage at all: the pattern's message says so alone.
    if (!new RegExp(PERCENT_PATTERN).test(s)) return true;
    const n = Number(s.slice(0, -1));
    return n >= FALSE_ROLLBACK_RATE_PERCENT.min && n <= FALSE_ROLLBACK_RATE_PERCENT.max;
  }, `must be between ${FALSE_ROLLBACK_RATE_PERCENT.min}% and ${FALSE_ROLLBACK_RATE_PERCENT.max}%`);

const requestCount = z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be at least 0').max(1_000_000, 'must be at most 1000000');

/**
 * A sequential gate: canary against stable on event counts since the canary
 * got traffic at its step, judged every round by an anytime-valid test
 * (src/analysis/sequential/). It fails as soon as the evidence against the
 * canary reaches 1/falseRollbackRate, and may end a step early on evidence for it.
 */
export const SequentialGateSchema = z.object({
  /** 5xx responses: the canary's share may be up to maxRatioOverStable times stable's. */
  errorRate: z.object({ maxRatioOverStable: ratioOverStable.optional() }).optional(),
  /** Requests slower than a boundary near stable's pXX: the canary's share may be up to maxRatioOverStable times stable's. */
  latency: z
    .object({
      percentile: z.number({ error: 'must be a number between 50 and 99.99' }).min(50, 'must be at least 50').max(99.99, 'must be at most 99.99'),
      maxRatioOverStable: ratioOverStable.optional(),
      /** A bucket boundary of the duration histogram (an `le` value); default: chosen from stable's hour before the counting starts. */
      boundaryMs: latencyMs('milliseconds').optional(),
    })
    .optional(),
  /** Canary requests a step needs before this gate may pass it (default 25; spec.analysis.minRequests is per window, for windowed gates). */
  minRequests: requestCount.optional(),
  /** This gate's own bound on false rollbacks; default: an equal share of spec.analysis.falseRollbackRate. */
  falseRollbackRate: falseRollbackRate.optional(),
});
export type SequentialGate = z.infer<typeof SequentialGateSchema>;

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
  sequential: SequentialGateSchema.optional(),
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
  minRequests: requestCount.optional(),
  failureLimit: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').optional(),
  onFailure: onOutcome('what a failing canary gets').optional(),
  /** What a release gets when rounds stay inconclusive or metrics unavailable past their timeouts. */
  onInconclusive: onOutcome('what a release without a verdict gets').optional(),
  inconclusiveTimeout: durationString.optional(),
  /** The bound on false rollbacks over the whole release that the sequential gates without their own share. */
  falseRollbackRate: falseRollbackRate.optional(),
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
