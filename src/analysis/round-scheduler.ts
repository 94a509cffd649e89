// Analysis rounds run beside the reconcile workers, never inside them: a
// reconcile asks for the round it needs and returns at once; when the round
// has finished, the release is enqueued again and the next reconcile reads
// the result. Rounds have their own concurrency limit, and each Prometheus
// address its own smaller one, so a slow or dead Prometheus delays only the
// releases that use it, and no tenant's gates can stall another's rollback.
import { GateVerdict } from '../api/analysis-status.js';
import type { AnalysisRound } from '../core/analysis-rules.js';
import type { PreflightResult } from '../core/decide.js';
import type { AnalysisPlan } from '../core/plan.js';
import type { AnalysisProvider } from '../controller/ports.js';
import type { AnalysisTarget } from './analysis-runner.js';

export interface AnalysisRounds {
  /**
   * The finished round of `key` at `at`; otherwise starts it (once, and only when no earlier round of the
   * release is still running) and returns the release's previous finished round, if any.
   */
  round(key: string, plan: AnalysisPlan, target: AnalysisTarget, at: Date): AnalysisRound | undefined;
  /**
   * The latest preflight of `key` (fresh for a few seconds), or one the provider decides at once from a recent
   * answer of the same address; otherwise starts one and returns undefined.
   */
  preflight(key: string, plan: AnalysisPlan, target: AnalysisTarget): PreflightResult | undefined;
  /**
   * Lets go of `key`'s finished round once a status write records it (its time is at or before `lastRecorded`,
   * the written analysis.evaluatedAt): it is no longer new evidence, and the next round is not due before the
   * next interval.
   */
  recorded(key: string, lastRecorded: Date): void;
  /** Drops what is kept for a release that is gone. */
  forget(key: string): void;
}

export interface RoundSchedulerOptions {
  /** Rounds in flight at once, all addresses together. */
  concurrency?: number;
  /** Rounds in flight at once against one Prometheus address. */
  perAddress?: number;
  /** How long a preflight result is reused. */
  preflightTtlMs?: number;
  /** Told when a round or preflight of a release finished (the controller enqueues it), with the round's result. */
  onReady: (key: string, round?: AnalysisRound) => void;
  now?: () => number;
}

interface Job {
  key: string;
  address: string;
  /** Runs the job; a round's result, when it was one. */
  run: () => Promise<AnalysisRound | undefined>;
}

/**
 * Whether a finished round is looked at ahead of the others (the work queue's
 * first tier): one whose windowed gates did not all pass may end the release
 * (a failure at the limit, or no verdict for too long). Sequential gates are
 * judged from the round's counts in the core, so their failures wait with
 * the rounds that passed.
 */
export function lookFirstAt(round: AnalysisRound | undefined): boolean {
  return round !== undefined && round.verdict !== GateVerdict.Pass;
}

export class RoundScheduler implements AnalysisRounds {
  private readonly rounds = new Map<string, { at: number; result?: AnalysisRound }>();
  private readonly preflights = new Map<string, { at: number; result?: PreflightResult }>();
  private readonly waiting: Job[] = [];
  private readonly busyByAddress = new Map<string, number>();
  private busy = 0;
  private readonly concurrency: number;
  private readonly perAddress: number;
  private readonly preflightTtlMs: number;
  private readonly now: () => number;

  constructor(private readonly provider: AnalysisProvider, private readonly opts: RoundSchedulerOptions) {
    this.concurrency = opts.concurrency ?? 8;
    this.perAddress = opts.perAddress ?? 2;
    this.preflightTtlMs = opts.preflightTtlMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The evaluation time of `key`'s finished round, while it is kept (for tests). */
  finishedRoundAt(key: string): Date | undefined {
    const r = this.rounds.get(key);
    return r?.result === undefined ? undefined : new Date(r.at);
  }

  /** Releases whose round or preflight is kept, finished or not (for tests). */
  get kept(): number {
    return new Set([...this.rounds.keys(), ...this.preflights.keys()]).size;
  }

  /** Rounds and preflights in flight or waiting (for metrics and tests). */
  get pending(): number {
    return this.busy + this.waiting.length;
  }

  round(key: string, plan: AnalysisPlan, target: AnalysisTarget, at: Date): AnalysisRound | undefined {
    const t = at.getTime();
    const entry = this.rounds.get(key);
    if (entry && entry.at === t) return entry.result;
    // One round per release at a time: a Prometheus that hangs gets one question per release per timeout,
    // not a backlog of rounds that are stale before they start.
    if (entry && entry.result === undefined) return undefined;
    const slot: { at: number; result?: AnalysisRound } = { at: t };
    this.rounds.set(key, slot);
    this.submit(key, plan.address ?? '', async () => {
      slot.result = await this.provider.run(plan, target, at);
      return slot.result;
    }, () => this.rounds.get(key) === slot && this.rounds.delete(key));
    // The previous round finished and may not have been seen yet: it is still evidence (decide checks).
    // One from a later time (the clock stepped back) is not handed over.
    return entry && entry.at < t ? entry.result : undefined;
  }

  preflight(key: string, plan: AnalysisPlan, target: AnalysisTarget): PreflightResult | undefined {
    const entry = this.preflights.get(key);
    const now = this.now();
    const age = entry ? now - entry.at : Number.NaN;
    // A clock stepped back (negative age) makes a kept result stale, not fresh for as long as the step.
    if (entry && (entry.result === undefined || (age >= 0 && age < this.preflightTtlMs))) return entry.result;
    // Not kept: the answer it leans on is already some seconds old, and asking again costs nothing.
    const known = this.provider.preflightFromRecent?.(plan, target, this.preflightTtlMs);
    if (known) return known;
    const slot: { at: number; result?: PreflightResult } = { at: now };
    this.preflights.set(key, slot);
    this.submit(key, plan.address ?? '', async () => {
      slot.result = await this.provider.preflight(plan, target);
      slot.at = this.now();
      return undefined;
    }, () => this.preflights.get(key) === slot && this.preflights.delete(key));
    return entry?.result;
  }

  recorded(key: string, lastRecorded: Date): void {
    // Held until now, a finished round cost about 1.8 KiB per release for most of each interval (heap snapshot,
    // 1,000 releases). One still running stays: it is the one round of the release at a time.
    const entry = this.rounds.get(key);
    if (entry?.result !== undefined && entry.at <= lastRecorded.getTime()) this.rounds.delete(key);
  }

  forget(key: string): void {
    this.rounds.delete(key);
    this.preflights.delete(key);
  }

  private submit(key: string, address: string, work: () => Promise<AnalysisRound | undefined>, dropSlot: () => void): void {
    this.waiting.push({
      key,
      address,
      run: async () => {
        try {
          return await work();
        } catch {
          // The provider never throws by contract; a bug there must not wedge the release: ask again next time.
          dropSlot();
          return undefined;
        }
      },
    });
    this.pump();
  }

  private pump(): void {
    for (let i = 0; i < this.waiting.length && this.busy < this.concurrency; ) {
      const job = this.waiting[i] as Job;
      if ((this.busyByAddress.get(job.address) ?? 0) >= this.perAddress) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.busy++;
      this.busyByAddress.set(job.address, (this.busyByAddress.get(job.address) ?? 0) + 1);
      void job.run().catch(() => undefined).then((round) => {
        this.busy--;
        const left = (this.busyByAddress.get(job.address) ?? 1) - 1;
        if (left > 0) this.busyByAddress.set(job.address, left);
        else this.busyByAddress.delete(job.address);
        this.opts.onReady(job.key, round);
        this.pump();
      });
    }
  }
}
