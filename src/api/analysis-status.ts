// status.analysis: the latest evaluation of every gate, and the counters the
// hold and failure rules need.
import { z } from 'zod';

/**
 * Judging: a sequential gate is gathering evidence and owes no verdict yet
 * (its step's time is not up); it neither passes nor holds the release.
 */
export const GateVerdict = { Pass: 'Pass', Fail: 'Fail', Inconclusive: 'Inconclusive', Error: 'Error', Judging: 'Judging' } as const;
export type GateVerdict = (typeof GateVerdict)[keyof typeof GateVerdict];

/** A round fails if any gate failed, else errs if any erred, else is inconclusive, else judging, else passes. */
const PRECEDENCE: readonly GateVerdict[] = [GateVerdict.Fail, GateVerdict.Error, GateVerdict.Inconclusive, GateVerdict.Judging];
export function worstVerdict(verdicts: readonly GateVerdict[]): GateVerdict {
  return PRECEDENCE.find((v) => verdicts.includes(v)) ?? GateVerdict.Pass;
}

export const GateResultSchema = z.object({
  name: z.string(),
  /** The PromQL that measures this gate for this release (paste it into Prometheus). */
  query: z.string(),
  /** Error rates in percent, latencies in milliseconds, custom queries as returned; absent without data. */
  value: z.number().optional(),
  stableValue: z.number().optional(),
  threshold: z.string(),
  verdict: z.enum(GateVerdict),
  message: z.string(),
});
export type GateResult = z.infer<typeof GateResultSchema>;

const EventCountsSchema = z.object({
  canaryRequests: z.number(),
  canaryEvents: z.number(),
  stableRequests: z.number(),
  stableEvents: z.number(),
});

/** A sequential gate's evidence (src/analysis/sequential/ratio-evidence.ts): natural logs of likelihood ratios and counts. */
export const SequentialEvidenceSchema = z.object({
  maxRatio: z.number(),
  passRatio: z.number(),
  against: z.array(z.number()),
  inFavour: z.array(z.number()),
  release: EventCountsSchema,
  step: EventCountsSchema,
});

export const SequentialGateStatusSchema = z.object({
  /** What the evidence counts: 5xx responses or slow requests (a gate edited into another kind starts afresh). */
  kind: z.enum(['errors', 'slow']),
  percentile: z.number().optional(),
  /** The latency boundary counted against, chosen once per release (slow gates). */
  boundaryMs: z.number().optional(),
  evidence: SequentialEvidenceSchema,
});
export type SequentialGateStatus = z.infer<typeof SequentialGateStatusSchema>;

/** Everything the sequential gates need to go on after a restart. */
export const SequentialStatusSchema = z.object({
  /** The end of the last batch counted: the next round counts from here (or from the step's start, if later). */
  countedUntil: z.string().optional(),
  /** The step the evidence for the canary belongs to; when status.stepStartedAt differs, that evidence restarts. */
  stepStartedAt: z.string().optional(),
  gates: z.record(z.string(), SequentialGateStatusSchema),
});
export type SequentialStatus = z.infer<typeof SequentialStatusSchema>;

export const AnalysisStatusSchema = z.object({
  /** The round's evaluation time: queries measure the window ending here (a multiple of the interval plus the release's round offset). */
  evaluatedAt: z.string(),
  /** Start of the round's window; a round is evidence for a step only when this is at or after the step's start. */
  measuredFrom: z.string().optional(),
  verdict: z.enum(GateVerdict),
  /** Consecutive failing evaluations; inconclusive and error rounds neither count nor reset it. */
  consecutiveFailures: z.number().int(),
  inconclusiveSince: z.string().optional(),
  errorSince: z.string().optional(),
  gates: z.array(GateResultSchema),
  sequential: SequentialStatusSchema.optional(),
});
export type AnalysisStatus = z.infer<typeof AnalysisStatusSchema>;
