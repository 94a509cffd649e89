// The evidence of a sequential canary/stable comparison: two e-processes on
// the events (5xx responses, or requests slower than a latency boundary) of
// both subsets, fed batch by batch (one batch per analysis round).
//
// Why this is valid whatever the traffic does (Lindon et al., "Rapid
// Regression Detection in Software Deployments through Sequential Testing",
// KDD 2022, arXiv:2205.14762; Lindon & Malek, NeurIPS 2022, for count data):
// given a batch's request counts and its total number of events m, the
// canary's events are Binomial(m, p) with p = canaryShare(rho, theta), where
// rho is the batch's canary request share and theta the canary/stable rate
// ratio (see canary-share.ts); exact when events are rare (the Poisson limit),
// and for binomial counts the conditional law is less dispersed than that,
// which the property tests and the benchmark (binomial counts, error rates up
// to 25% in bursts) check. The stable rate cancels, so noise and bursts
// shared by both subsets do not matter, and every batch carries its own rho,
// so the evidence stays valid while the weight changes from step to step
// (batches must not straddle a step change, see updateEvidence).
//
// Evidence against (the canary is worse than tolerated): the null is
// theta <= maxRatio. For an alternative theta_k > maxRatio the batch factor
//   (p_k / p_0)^x * ((1 - p_k) / (1 - p_0))^(m - x),   p_0 = canaryShare(rho, maxRatio),
// has expectation exactly 1 at theta = maxRatio and below 1 for any smaller
// theta, so the product over batches is a test (super)martingale under the
// whole null, and so is an average of them over a grid of alternatives (a
// discrete mixture, in place of the papers' conjugate Dirichlet mixture,
// which cannot follow a rho that changes between batches). By Ville's
// inequality, P(evidence ever reaches 1/alpha | canary within tolerance) <=
// alpha, however often it is checked: that bounds false rollbacks over the
// whole release.
//
// Evidence for (the canary is no worse than allowed): the mirror image, null
// theta >= passRatio against alternatives below it. It restarts at every step,
// so each step earns its own early pass on data taken at its own weight.
//
// The state is a few numbers (natural logs of likelihood ratios and counts),
// kept in the release status as JSON.
import { canaryShare } from './canary-share.js';
import { defaultPassRatio } from './sequential-config.js';

/** Alternatives of the evidence against, as multiples of maxRatio (weighted equally). */
export const AGAINST_MULTIPLIERS = [1.25, 1.5, 2, 3, 5, 10, 100] as const;
/** Alternatives of the evidence for, as multiples of passRatio (weighted equally). */
export const FOR_MULTIPLIERS = [0.8, 0.6, 0.4, 0.2, 0.01] as const;

export interface EventCounts {
  canaryRequests: number;
  /** 5xx responses, or requests slower than the latency boundary. */
  canaryEvents: number;
  stableRequests: number;
  stableEvents: number;
}

export interface SequentialEvidence {
  /** The tolerated canary/stable ratio: evidence against rejects "ratio <= maxRatio". */
  maxRatio: number;
  /** Evidence for rejects "ratio >= passRatio". */
  passRatio: number;
  /** ln likelihood ratio of each alternative AGAINST_MULTIPLIERS[k] * maxRatio vs maxRatio, since the release began. */
  against: number[];
  /** ln likelihood ratio of each alternative FOR_MULTIPLIERS[k] * passRatio vs passRatio, since the step began. */
  inFavour: number[];
  release: EventCounts;
  step: EventCounts;
}

const COUNT_NAMES = ['canaryRequests', 'canaryEvents', 'stableRequests', 'stableEvents'] as const;
const NO_COUNTS: EventCounts = { canaryRequests: 0, canaryEvents: 0, stableRequests: 0, stableEvents: 0 };

export function newEvidence(ratios: { maxRatio: number; passRatio?: number }): SequentialEvidence {
  const passRatio = ratios.passRatio ?? defaultPassRatio(ratios.maxRatio);
  if (!(ratios.maxRatio >= 1 && Number.isFinite(ratios.maxRatio))) throw new RangeError(`maxRatio must be a finite number of at least 1, got ${ratios.maxRatio}`);
  if (!(passRatio >= ratios.maxRatio && Number.isFinite(passRatio))) throw new RangeError(`passRatio must be finite and at least maxRatio (${ratios.maxRatio}), got ${passRatio}`);
  return {
    maxRatio: ratios.maxRatio,
    passRatio,
    against: AGAINST_MULTIPLIERS.map(() => 0),
    inFavour: FOR_MULTIPLIERS.map(() => 0),
    release: { ...NO_COUNTS },
    step: { ...NO_COUNTS },
  };
}

/** The evidence when a new step begins: the release's evidence against carries on, the evidence for starts afresh. */
export function startStep(state: SequentialEvidence): SequentialEvidence {
  return { ...state, inFavour: FOR_MULTIPLIERS.map(() => 0), step: { ...NO_COUNTS } };
}

/**
 * Adds one batch: the counts of both subsets over a stretch of time that lies
 * within one step (a batch spanning a weight change would mix two request
 * shares; drop or split it). Counts are rounded to whole events, since
 * Prometheus' increase() extrapolates to fractions. A batch in which one
 * subset had no requests adds to the counts but not to the evidence.
 */
export function updateEvidence(state: SequentialEvidence, batch: EventCounts): SequentialEvidence {
  const b = wholeCounts(batch);
  const release = addCounts(state.release, b);
  const step = addCounts(state.step, b);
  const events = b.canaryEvents + b.stableEvents;
  if (b.canaryRequests === 0 || b.stableRequests === 0 || events === 0) return { ...state, release, step };
  const rho = b.canaryRequests / (b.canaryRequests + b.stableRequests);
  return {
    ...state,
    against: state.against.map((ln, k) => ln + lnBatchFactor(rho, state.maxRatio * (AGAINST_MULTIPLIERS[k] ?? 1), state.maxRatio, b)),
    inFavour: state.inFavour.map((ln, k) => ln + lnBatchFactor(rho, state.passRatio * (FOR_MULTIPLIERS[k] ?? 1), state.passRatio, b)),
    release,
    step,
  };
}

/** ln of the mixture e-value against "ratio <= maxRatio" (0 before any event). */
export function lnEvidenceAgainst(state: SequentialEvidence): number {
  return lnMeanExp(state.against);
}

/** ln of the mixture e-value against "ratio >= passRatio", at this step. */
export function lnEvidenceFor(state: SequentialEvidence): number {
  return lnMeanExp(state.inFavour);
}

function lnBatchFactor(rho: number, alternative: number, nullRatio: number, b: EventCounts): number {
  const p = canaryShare(rho, alternative);
  const p0 = canaryShare(rho, nullRatio);
  // x * ln(p / p0) with x = 0 is 0 even when p is 0 or 1.
  const canaryTerm = b.canaryEvents === 0 ? 0 : b.canaryEvents * Math.log(p / p0);
  const stableTerm = b.stableEvents === 0 ? 0 : b.stableEvents * Math.log((1 - p) / (1 - p0));
  return canaryTerm + stableTerm;
}

/** ln(mean(exp(x))) without overflow. */
function lnMeanExp(xs: readonly number[]): number {
  const top = Math.max(...xs);
  if (top === Number.NEGATIVE_INFINITY) return top;
  const sum = xs.reduce((s, x) => s + Math.exp(x - top), 0);
  return top + Math.log(sum / xs.length);
}

function wholeCounts(c: EventCounts): EventCounts {
  for (const k of COUNT_NAMES) {
    const v = c[k];
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`batch ${k} must be a finite count of at least 0, got ${v}`);
  }
  const canaryRequests = Math.round(c.canaryRequests);
  const stableRequests = Math.round(c.stableRequests);
  return {
    canaryRequests,
    canaryEvents: Math.min(Math.round(c.canaryEvents), canaryRequests),
    stableRequests,
    stableEvents: Math.min(Math.round(c.stableEvents), stableRequests),
  };
}

function addCounts(a: EventCounts, b: EventCounts): EventCounts {
  return {
    canaryRequests: a.canaryRequests + b.canaryRequests,
    canaryEvents: a.canaryEvents + b.canaryEvents,
    stableRequests: a.stableRequests + b.stableRequests,
    stableEvents: a.stableEvents + b.stableEvents,
  };
}
