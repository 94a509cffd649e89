// Fuzzing that stays: thousands of random and adversarial specs and statuses
// (wrong types, huge numbers, long and unicode strings, __proto__ keys,
// timestamps far in the past and future) through validation, the resolved
// plan and decide(). Nothing may throw, every refusal names its field, and no
// requeue falls outside [100 ms, 24 days]. A fixed seed and a bounded count;
// FUZZ_RUNS raises it.
import { afterAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { CanaryReleaseStatusSchema } from '../../../src/api/status.js';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';
import { toSnapshot } from '../../../src/controller/snapshot.js';
import { decide } from '../../../src/core/decide.js';
import { MAX_DELAY_MS, MIN_DELAY_MS } from '../../../src/core/time.js';
import type { RouteObservation } from '../../../src/core/traffic.js';
import { NOW, baseSpec, obs, trafficAt } from '../release-fixtures.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
let specs = 0;
let decisions = 0;
let accepted = 0;

const hostile = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', '\u0000', '\u202e', '🦀'.repeat(40), 'a'.repeat(5000), '1e309', 'NaN', '-0'),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const weird = fc.oneof(
  hostile,
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 31, 1e308, -1, 0, 0.5, Number.NaN, Number.POSITIVE_INFINITY),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(hostile, fc.integer(), { maxKeys: 3 }),
);
const duration = fc.oneof(
  fc.constantFrom('0s', '1ms', '999ms', '1s', '30s', '1m', '600h', '720h', '721h', '3000000000h', '1.5h', '1h30m', '1s1s', '100000h', '1d', '-1s', ''),
  fc.integer({ min: 0, max: 10 ** 12 }).map((n) => `${n}ms`),
  weird,
);
const gate = fc.oneof(
  fc.record({ name: fc.oneof(fc.constantFrom('errors', 'p99', 'E', ''), hostile), errorRate: fc.record({ max: fc.oneof(fc.constantFrom('1%', '100%', '1000%', '0.5%'), weird) }, { requiredKeys: [] }) }, { requiredKeys: ['name'] }),
  fc.record({ name: fc.constant('p99'), latency: fc.record({ percentile: fc.oneof(fc.double(), weird), maxMs: fc.oneof(fc.double(), weird) }, { requiredKeys: [] }) }),
  fc.record({ name: fc.constant('q'), query: fc.oneof(hostile, fc.constant('sum(x{v="{{version}}"})')), max: weird, min: weird }, { requiredKeys: ['name'] }),
  weird,
);
const analysis = fc.record({
  prometheus: fc.oneof(fc.record({ address: fc.oneof(fc.constantFrom('http://p:9090', 'https://p', 'file:///etc/passwd', 'gopher://x', 'http://', 'HTTP://P'), hostile), timeout: duration }, { requiredKeys: [] }), weird),
  interval: duration, window: duration, minRequests: weird, failureLimit: weird, onFailure: weird, onInconclusive: weird,
  inconclusiveTimeout: duration, prometheusErrorTimeout: duration, versionLabel: weird,
  gates: fc.oneof(fc.array(gate, { maxLength: 25 }), weird),
}, { requiredKeys: [] });
const plausible = {
  steps: fc.array(fc.record({ weight: fc.integer({ min: 1, max: 99 }), duration }, { requiredKeys: ['weight'] }), { maxLength: 60 })
    .map((xs) => [...xs].sort((a, b) => a.weight - b.weight).filter((x, i, all) => i === 0 || x.weight !== all[i - 1]?.weight)),
  analysis: fc.record({ prometheus: fc.record({ address: fc.constant('http://p:9090') }), interval: duration, window: duration, gates: fc.array(gate, { minLength: 1, maxLength: 3 }) }, { requiredKeys: ['gates'] }),
};
/** A valid spec with up to three fields replaced by something plausible, hostile or of the wrong type (or added, like __proto__). */
const spec = fc.array(
  fc.oneof(
    fc.record({ key: fc.constantFrom('steps'), value: fc.oneof(plausible.steps, weird) }),
    fc.record({ key: fc.constantFrom('analysis'), value: fc.oneof(plausible.analysis, analysis, weird) }),
    fc.record({ key: fc.constantFrom('canaryReadyTimeout', 'canaryUnavailableTimeout', 'stepDuration'), value: duration }),
    fc.record({ key: fc.constantFrom('service', 'stepWeight', 'maxWeight', 'paused', '__proto__', 'constructor', 'extra'), value: weird }),
    fc.record({ key: fc.constantFrom('virtualService'), value: fc.oneof(fc.record({ name: weird, routes: fc.oneof(fc.array(hostile, { maxLength: 20 }), weird) }, { requiredKeys: [] }), weird) }),
    fc.record({ key: fc.constantFrom('stable', 'canary', 'destinationRule'), value: fc.oneof(fc.record({ subset: weird, name: weird }, { requiredKeys: [] }), weird) }),
  ),
  { maxLength: 3 },
).map((edits) => {
  const out: Record<string, unknown> = { ...baseSpec() };
  for (const e of edits) Object.defineProperty(out, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
  return out;
});

const time = fc.oneof(
  fc.integer({ min: -(10 ** 13), max: 10 ** 13 }).map((s) => { const d = new Date(NOW.getTime() + s); return Number.isNaN(d.getTime()) ? 'bad' : d.toISOString(); }),
  fc.constantFrom('not a time', '', '+275760-09-13T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z'),
);
const status = fc.oneof(
  fc.record({
    phase: fc.constantFrom('Pending', 'Progressing', 'Paused', 'Succeeded', 'RolledBack', 'Failed', 'Nonsense', undefined),
    stableSubset: fc.constantFrom('v1', 'v2', undefined), canarySubset: fc.constantFrom('v2', 'v3', undefined),
    currentStep: fc.oneof(fc.integer({ min: -3, max: 60 }), fc.constant(2 ** 40)), totalSteps: fc.integer({ min: 0, max: 60 }),
    canaryWeight: fc.oneof(fc.integer({ min: -10, max: 110 }), fc.constant(1e9)), routeRevision: fc.integer(),
    releaseStartedAt: time, stepStartedAt: time, measureFrom: time, pausedAt: time, heldSince: time, canaryLostSince: time,
    canaryWaitingSince: time, completedAt: time, ownsRouteSince: time, pausedBy: fc.constantFrom('spec', 'analysis', undefined),
    analysis: fc.record({
      evaluatedAt: time, measuredFrom: time, verdict: fc.constantFrom('Pass', 'Fail', 'Inconclusive', 'Error'),
      consecutiveFailures: fc.integer({ min: -1, max: 1e6 }), inconclusiveSince: time, errorSince: time, gates: fc.constant([]),
    }, { requiredKeys: ['evaluatedAt', 'verdict', 'consecutiveFailures', 'gates'] }),
  }, { requiredKeys: [] }),
  fc.anything(),
);
const route: fc.Arbitrary<RouteObservation | undefined> = fc.oneof(
  fc.integer({ min: 0, max: 100 }).map((w) => trafficAt(w)),
  fc.constant(trafficAt(undefined)),
  fc.constant(undefined),
  fc.constant({ ok: false as const, reason: 'VirtualServiceNotFound' as const, message: 'gone' }),
);

afterAll(() => {
  process.stdout.write(`[fuzz] ${specs} random specs and statuses validated (${accepted} accepted, ${specs - accepted} refused), ${decisions} decisions taken\n`);
});

describe('fuzzing validation and decide()', () => {
  test('never throws, names the field of every problem, and keeps requeues within [100 ms, 24 days]', () => {
    fc.assert(
      fc.property(spec, status, route, fc.boolean(), fc.integer({ min: -(10 ** 12), max: 10 ** 12 }), (raw, st, rt, available, offset) => {
        specs++;
        const obj: CanaryReleaseObject = {
          metadata: { name: 'reviews', namespace: 'bookinfo', generation: 1, finalizers: ['canary-operator.dev/restore-stable'] },
          spec: raw, status: st,
        };
        const snap = toSnapshot(obj, { defaultPrometheusAddress: 'http://prometheus:9090' });
        if (!snap.plan.ok) {
          expect(snap.plan.problems.length).toBeGreaterThan(0);
          for (const p of snap.plan.problems) {
            expect(p.field).toMatch(/^spec(\.|\[|$)/);
            expect(typeof p.problem).toBe('string');
            expect(p.problem.length).toBeGreaterThan(0);
          }
        } else {
          accepted++;
          for (const s of snap.plan.plan.steps) expect(s.durationMs).toBeLessThanOrEqual(30 * 86_400_000);
        }
        const now = new Date(NOW.getTime() + offset);
        const d = decide(snap, { ...obs(undefined, available ? undefined : { available: false, message: 'down' }), route: rt }, now);
        decisions++;
        if (d.requeueAfterMs !== undefined) {
          expect(d.requeueAfterMs).toBeGreaterThanOrEqual(MIN_DELAY_MS);
          expect(d.requeueAfterMs).toBeLessThanOrEqual(MAX_DELAY_MS);
        }
        // What decide writes is a status the operator itself can read back.
        expect(CanaryReleaseStatusSchema.safeParse(JSON.parse(JSON.stringify(d.status))).success).toBe(true);
        for (const e of d.events) expect(e.message.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS, seed: 424242 },
    );
    expect(specs).toBeGreaterThanOrEqual(RUNS);
    // Both kinds were exercised: the generator is not all noise, nor all valid.
    expect(accepted).toBeGreaterThan(RUNS / 20);
    expect(specs - accepted).toBeGreaterThan(RUNS / 20);
  }, 300_000);
});
