// The sequential gates on simulated traffic: every round feeds the counts
// since the previous round (a batch inside the current step) into each gate's
// evidence, judges it, and combines the verdicts. The latency gate counts the
// requests slower than a boundary chosen from the stable's hour before the release.
import { combinedVerdict } from '../../src/analysis/sequential/combine-judgements.js';
import { newEvidence, startStep, updateEvidence, type EventCounts, type SequentialEvidence } from '../../src/analysis/sequential/ratio-evidence.js';
import { perGateFalseRollbackRate, type SequentialJudgeConfig } from '../../src/analysis/sequential/sequential-config.js';
import { judge } from '../../src/analysis/sequential/sequential-judge.js';
import { slowBoundaryMs, slowRequests, type BucketCount } from '../../src/analysis/sequential/slow-requests.js';
import type { ReleaseJudge } from './release-judge.js';
import { BOUNDARIES_MS, type SubsetWindow } from './simulated-traffic.js';

export interface SequentialGates {
  errors?: { maxRatio: number; passRatio?: number };
  latency?: { percentile: number; maxRatio: number; passRatio?: number };
  falseRollbackRate: number;
  earlyPassErrorRate: number;
  minRequests: number;
  holdAbove: number;
}

interface Gate {
  evidence: SequentialEvidence;
  config: SequentialJudgeConfig;
  count: (canary: SubsetWindow, stable: SubsetWindow) => EventCounts;
}

export function sequentialJudge(gates: SequentialGates): ReleaseJudge {
  const alpha = perGateFalseRollbackRate(gates.falseRollbackRate, (gates.errors ? 1 : 0) + (gates.latency ? 1 : 0));
  const common = { falseRollbackRate: alpha, earlyPassErrorRate: gates.earlyPassErrorRate, minRequests: gates.minRequests, holdAbove: gates.holdAbove };
  let active: Gate[] | undefined;
  let batchFrom = 0;
  return {
    startStep(t, traffic) {
      batchFrom = t;
      if (active) {
        for (const g of active) g.evidence = startStep(g.evidence);
        return;
      }
      active = [];
      if (gates.errors) {
        active.push({
          evidence: newEvidence(gates.errors),
          config: { ...common, subject: { kind: 'errors' } },
          count: (c, s) => ({ canaryRequests: c.requests, canaryEvents: c.errors, stableRequests: s.requests, stableEvents: s.errors }),
        });
      }
      if (gates.latency) {
        const boundary = slowBoundaryMs(asBuckets(traffic.stableLookback()), gates.latency.percentile);
        active.push({
          evidence: newEvidence(gates.latency),
          config: { ...common, subject: { kind: 'slow', boundaryMs: boundary ?? Number.POSITIVE_INFINITY } },
          // Without a boundary (too little stable history) there is nothing to count: the gate passes on time alone.
          count: (c, s) => {
            const canary = boundary === undefined ? undefined : slowRequests(asBuckets(c.cumulativeBuckets), boundary);
            const stable = boundary === undefined ? undefined : slowRequests(asBuckets(s.cumulativeBuckets), boundary);
            return { canaryRequests: c.requests, canaryEvents: canary?.slow ?? 0, stableRequests: s.requests, stableEvents: stable?.slow ?? 0 };
          },
        });
      }
    },
    round(ctx, traffic) {
      const w = traffic.window(batchFrom, ctx.t);
      batchFrom = ctx.t;
      const verdicts = (active ?? []).map((g) => {
        g.evidence = updateEvidence(g.evidence, g.count(w.canary, w.stable));
        return judge(g.evidence, g.config, { timeIsUp: ctx.stepTimeIsUp }).verdict;
      });
      const verdict = combinedVerdict(verdicts);
      return verdict === 'fail' ? { fail: 'gates', advance: false } : { advance: verdict === 'pass' };
    },
  };
}

function asBuckets(cumulative: Float64Array): BucketCount[] {
  return Array.from(cumulative, (count, i) => ({ le: BOUNDARIES_MS[i] ?? Number.POSITIVE_INFINITY, count }));
}
