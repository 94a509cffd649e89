// status.analysis: the latest evaluation of every gate, and the counters the
// hold and failure rules need.
import { z } from 'zod';

export const GateVerdict = { Pass: 'Pass', Fail: 'Fail', Inconclusive: 'Inconclusive', Error: 'Error' } as const;
export type GateVerdict = (typeof GateVerdict)[keyof typeof GateVerdict];

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

export const AnalysisStatusSchema = z.object({
  /** The round's evaluation time: queries measure the window ending here (a multiple of the interval). */
  evaluatedAt: z.string(),
  /** Start of the round's window; a round is evidence for a step only when this is at or after the step's start. */
  measuredFrom: z.string().optional(),
  verdict: z.enum(GateVerdict),
  /** Consecutive failing evaluations; inconclusive and error rounds neither count nor reset it. */
  consecutiveFailures: z.number().int(),
  inconclusiveSince: z.string().optional(),
  errorSince: z.string().optional(),
  gates: z.array(GateResultSchema),
});
export type AnalysisStatus = z.infer<typeof AnalysisStatusSchema>;
