import { describe, expect, test } from '@jest/globals';
import { canaryShare } from '../../../src/analysis/sequential/canary-share.js';
import {
  AGAINST_MULTIPLIERS, FOR_MULTIPLIERS, lnEvidenceAgainst, lnEvidenceFor, newEvidence, startStep, updateEvidence, type EventCounts, type SequentialEvidence,
} from '../../../src/analysis/sequential/ratio-evidence.js';

const batch = (canaryEvents: number, canaryRequests: number, stableEvents: number, stableRequests: number): EventCounts =>
  ({ canaryRequests, canaryEvents, stableRequests, stableEvents });
const feed = (state: SequentialEvidence, batches: EventCounts[]) => batches.reduce(updateEvidence, state);
const against = (s: SequentialEvidence) => Math.exp(lnEvidenceAgainst(s));
const inFavour = (s: SequentialEvidence) => Math.exp(lnEvidenceFor(s));
/** Relative difference, for values from 1e-10 to 1e16. */
const relative = (x: number, ref: number) => Math.abs(x / ref - 1);

describe('canaryShare: the chance an event is the canary\'s, p = rho*theta / (rho*theta + 1 - rho)', () => {
  // By hand: 0.1*1.5 / (0.15 + 0.9) = 1/7; 0.5*2 / (1 + 0.5) = 2/3; theta 1 gives rho itself.
  test.each([[0.1, 1.5, 1 / 7], [0.5, 2, 2 / 3], [0.25, 1, 0.25], [0.3, 0, 0], [0.3, Number.POSITIVE_INFINITY, 1]])(
    'rho %p, theta %p gives %p', (rho, theta, p) => {
      expect(canaryShare(rho, theta)).toBeCloseTo(p, 14);
    });

  test('a request share of 0 or 1 leaves nothing to compare and is refused', () => {
    expect(() => canaryShare(0, 1)).toThrow(RangeError);
    expect(() => canaryShare(1, 1)).toThrow(RangeError);
  });
});

describe('mixture evidence against reference values', () => {
  // E_against = mean over m in AGAINST_MULTIPLIERS of prod over batches of
  //   (p_m / p_0)^x * ((1 - p_m) / (1 - p_0))^y,  p = canaryShare(rho, .), p_m at m * maxRatio, p_0 at maxRatio,
  // E_for the same with FOR_MULTIPLIERS * passRatio against passRatio; rho = canary requests / all requests
  // of the batch, x and y the canary's and stable's events. Computed once with Python's mpmath at 30
  // digits (an implementation of the formula independent of this one), pasted here.
  const cases: { name: string; batches: EventCounts[]; maxRatio: number; passRatio: number; against: number; inFavour: number }[] = [
    { name: 'one batch at 10%: 17 of 67 vs 31 of 2,210', batches: [batch(17, 67, 31, 2210)], maxRatio: 1.2, passRatio: 1.5, against: 27224793554.1581, inFavour: 0.00692892126811808 },
    { name: 'the same at maxRatio 1.5', batches: [batch(17, 67, 31, 2210)], maxRatio: 1.5, passRatio: 1.5, against: 1903682666.58, inFavour: 0.00692892126811808 },
    { name: '10% then 50%: 4 of 100 vs 6 of 900, 9 of 500 vs 3 of 500', batches: [batch(4, 100, 6, 900), batch(9, 500, 3, 500)], maxRatio: 1.2, passRatio: 1.5, against: 11.3033729549496, inFavour: 0.0814915216224292 },
    { name: 'the same at maxRatio 1.5', batches: [batch(4, 100, 6, 900), batch(9, 500, 3, 500)], maxRatio: 1.5, passRatio: 1.5, against: 4.34323912032047, inFavour: 0.0814915216224292 },
    { name: 'healthy at 10%: 10 of 1,000 vs 90 of 9,000', batches: [batch(10, 1000, 90, 9000)], maxRatio: 1.2, passRatio: 1.5, against: 0.102594937678332, inFavour: 0.991552384940727 },
    { name: 'healthy, two batches: + 9 of 1,000 vs 95 of 9,000', batches: [batch(10, 1000, 90, 9000), batch(9, 1000, 95, 9000)], maxRatio: 1.2, passRatio: 1.5, against: 0.0295357003831119, inFavour: 3.53542977855191 },
    { name: 'canary-only errors: 4 of 50 vs 0 of 450', batches: [batch(4, 50, 0, 450)], maxRatio: 1.2, passRatio: 1.5, against: 664.319426058901, inFavour: 0.132636782571651 },
    { name: 'better canary at 50%: 200 of 20,000 vs 300 of 20,000', batches: [batch(200, 20000, 300, 20000)], maxRatio: 1.2, passRatio: 1.5, against: 6.00123505456029e-10, inFavour: 4.23144550816587e16 },
    // The defaults: passRatio = maxRatio = 1.2.
    { name: 'defaults, one batch at 10%: 17 of 67 vs 31 of 2,210', batches: [batch(17, 67, 31, 2210)], maxRatio: 1.2, passRatio: 1.2, against: 27224793554.1581, inFavour: 0.00638263610912326 },
    { name: 'defaults, healthy, two batches', batches: [batch(10, 1000, 90, 9000), batch(9, 1000, 95, 9000)], maxRatio: 1.2, passRatio: 1.2, against: 0.0295357003831119, inFavour: 0.61493880406018 },
    { name: 'defaults, better canary at 50%', batches: [batch(200, 20000, 300, 20000)], maxRatio: 1.2, passRatio: 1.2, against: 6.00123505456029e-10, inFavour: 239721658.941059 },
  ];

  test.each(cases)('$name (maxRatio $maxRatio): against $against, for $inFavour', (c) => {
    const s = feed(newEvidence({ maxRatio: c.maxRatio, passRatio: c.passRatio }), c.batches);
    expect(relative(against(s), c.against)).toBeLessThan(1e-9);
    expect(relative(inFavour(s), c.inFavour)).toBeLessThan(1e-9);
  });

  test('the grids the reference values were computed with', () => {
    expect(AGAINST_MULTIPLIERS).toEqual([1.25, 1.5, 2, 3, 5, 10, 100]);
    expect(FOR_MULTIPLIERS).toEqual([0.8, 0.6, 0.4, 0.2, 0.01]);
  });
});

describe('evidence state', () => {
  test('starts at evidence 1 both ways, with no counts, and passRatio = maxRatio by default', () => {
    const s = newEvidence({ maxRatio: 1.2 });
    expect(against(s)).toBe(1);
    expect(inFavour(s)).toBe(1);
    expect(s.passRatio).toBe(1.2);
    expect(s.release).toEqual({ canaryRequests: 0, canaryEvents: 0, stableRequests: 0, stableEvents: 0 });
  });

  test('a new step keeps the release\'s evidence against and its counts, and restarts the evidence for and the step counts', () => {
    const s = feed(newEvidence({ maxRatio: 1.2 }), [batch(10, 1000, 90, 9000), batch(9, 1000, 95, 9000)]);
    const next = startStep(s);
    expect(next.against).toEqual(s.against);
    expect(next.release).toEqual(s.release);
    expect(inFavour(next)).toBe(1);
    expect(next.step).toEqual({ canaryRequests: 0, canaryEvents: 0, stableRequests: 0, stableEvents: 0 });
  });

  test('splitting a batch into parts with the same request share gives the same evidence (counts are sufficient)', () => {
    const whole = feed(newEvidence({ maxRatio: 1.2 }), [batch(12, 400, 30, 3600)]);
    const parts = feed(newEvidence({ maxRatio: 1.2 }), [batch(5, 100, 3, 900), batch(0, 100, 20, 900), batch(7, 200, 7, 1800)]);
    expect(lnEvidenceAgainst(parts)).toBeCloseTo(lnEvidenceAgainst(whole), 10);
    expect(lnEvidenceFor(parts)).toBeCloseTo(lnEvidenceFor(whole), 10);
  });

  test('a batch without stable (or canary) requests adds to the counts but not to the evidence', () => {
    const s = feed(newEvidence({ maxRatio: 1.2 }), [batch(3, 20, 0, 0)]);
    expect(against(s)).toBe(1);
    expect(s.release).toEqual({ canaryRequests: 20, canaryEvents: 3, stableRequests: 0, stableEvents: 0 });
  });

  test('fractional counts from increase() are rounded, and events never exceed requests', () => {
    const s = feed(newEvidence({ maxRatio: 1.2 }), [batch(2.4, 10.6, 5.5, 3.2)]);
    expect(s.release).toEqual({ canaryRequests: 11, canaryEvents: 2, stableRequests: 3, stableEvents: 3 });
  });

  test('negative or non-finite counts are refused', () => {
    expect(() => updateEvidence(newEvidence({ maxRatio: 1.2 }), batch(-1, 10, 0, 10))).toThrow(/canaryEvents/);
    expect(() => updateEvidence(newEvidence({ maxRatio: 1.2 }), batch(0, Number.NaN, 0, 10))).toThrow(/canaryRequests/);
  });

  test('ratios below 1, or a passRatio below maxRatio, are refused', () => {
    expect(() => newEvidence({ maxRatio: 0.9 })).toThrow(RangeError);
    expect(() => newEvidence({ maxRatio: 1.5, passRatio: 1.2 })).toThrow(RangeError);
  });

  test('survives a JSON round trip unchanged and stays under 600 bytes', () => {
    const s = feed(newEvidence({ maxRatio: 1.2 }), [batch(17, 67, 31, 2210), batch(4, 100, 6, 900)]);
    const json = JSON.stringify(s);
    expect(json.length).toBeLessThan(600);
    const back = JSON.parse(json) as SequentialEvidence;
    expect(back).toEqual(s);
    expect(lnEvidenceAgainst(updateEvidence(back, batch(1, 50, 2, 450)))).toBe(lnEvidenceAgainst(updateEvidence(s, batch(1, 50, 2, 450))));
  });

  test('overwhelming evidence stays finite in the state (logs), even when the e-value itself overflows', () => {
    const s = feed(newEvidence({ maxRatio: 1.2 }), Array.from({ length: 40 }, () => batch(5000, 10000, 0, 90000)));
    expect(s.against.every(Number.isFinite)).toBe(true);
    expect(lnEvidenceAgainst(s)).toBeGreaterThan(Math.log(1e308));
  });
});
