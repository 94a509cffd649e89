// Pure gate evaluation: from measurements to a verdict per gate, with the
// value, the threshold and a sentence a person understands.
import type { Gate } from '../api/analysis-spec.js';
import { GateVerdict, worstVerdict, type GateResult } from '../api/analysis-status.js';
import type { AnalysisPlan } from '../core/plan.js';
import type { ReleaseMeasurements, RequestCounts } from './measurements.js';
import { flatString } from '../util/flat-string.js';

/** The windowed gates; sequential gates are judged by the core, on the evidence in status. */
export function evaluateGates(spec: AnalysisPlan, m: ReleaseMeasurements, subsets: { stable: string; canary: string }): GateResult[] {
  return spec.gates.filter((g) => !g.sequential).map((g) => evaluateGate(g, spec, m, subsets));
}

/** A round fails if any gate failed, else errs if any erred, else is inconclusive if any was. */
export function roundVerdict(results: GateResult[]): GateVerdict {
  return worstVerdict(results.map((r) => r.verdict));
}

const pct = (n: number) => `${round(n)}%`;
const ms = (n: number) => `${round(n)}ms`;
const round = (n: number) => (Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 100) / 100);
const parsePercent = (s: string) => Number(s.slice(0, -1));

function evaluateGate(g: Gate, spec: AnalysisPlan, m: ReleaseMeasurements, sub: { stable: string; canary: string }): GateResult {
  const query = flatString(m.queries[g.name] ?? '');
  const window = spec.window;
  const minRequests = spec.minRequests;
  // Kept until the release's next round (RoundScheduler): flat strings, and properties always added in one
  // order, so the results share V8's hidden classes instead of each carrying its own.
  const result = (verdict: GateVerdict, threshold: string, message: string, value?: number, stableValue?: number): GateResult => {
    const r: GateResult = { name: g.name, query, threshold, verdict, message: flatString(message) };
    if (value !== undefined && Number.isFinite(value)) r.value = round(value);
    if (stableValue !== undefined && Number.isFinite(stableValue)) r.stableValue = round(stableValue);
    return r;
  };

  if (g.query !== undefined) {
    const threshold = thresholdOf(g);
    const r = m.custom[g.name];
    if (!r || !r.ok) return result(GateVerdict.Error, threshold, `${g.name}: ${r?.message ?? 'not measured'}`);
    if (r.value === undefined || Number.isNaN(r.value)) return result(GateVerdict.Inconclusive, threshold, `${g.name}: the query returned no data`);
    if (g.max !== undefined && r.value > g.max) return result(GateVerdict.Fail, threshold, `${g.name} ${round(r.value)} > ${g.max}`, r.value);
    if (g.min !== undefined && r.value < g.min) return result(GateVerdict.Fail, threshold, `${g.name} ${round(r.value)} < ${g.min}`, r.value);
    return result(GateVerdict.Pass, threshold, `${g.name} ${round(r.value)} within ${threshold}`, r.value);
  }

  if (!m.requests.ok) return result(GateVerdict.Error, thresholdOf(g), `${g.name}: ${m.requests.message}`);
  const { canary, stable } = m.requests.value;
  const relative = Boolean(g.errorRate?.maxIncreaseOverStable || g.latency?.maxIncreaseOverStableMs);
  const short = tooFew(canary, minRequests, `${sub.canary}`, window) ?? (relative ? tooFew(stable, minRequests, `${sub.stable} (stable)`, window) : undefined);
  if (short) return result(GateVerdict.Inconclusive, thresholdOf(g), `${g.name}: ${short}`);

  if (g.errorRate) {
    // Multiply first: (7 / 100) * 100 is 7.000000000000001, which would fail a 7% max.
    const rate = (canary.errors * 100) / canary.total;
    const stableRate = stable.total > 0 ? (stable.errors * 100) / stable.total : undefined;
    const e = g.errorRate;
    if (e.max !== undefined && rate > parsePercent(e.max)) {
      return result(GateVerdict.Fail, thresholdOf(g), `error rate ${pct(rate)} > ${e.max} (${Math.round(canary.errors)} of ${Math.round(canary.total)} ${sub.canary} requests in ${window})`, rate, stableRate);
    }
    if (e.maxIncreaseOverStable !== undefined && stableRate !== undefined && rate - stableRate > parsePercent(e.maxIncreaseOverStable)) {
      return result(GateVerdict.Fail, thresholdOf(g),
        `error rate ${pct(rate)} is ${round(rate - stableRate)} points above stable's ${pct(stableRate)} (allowed +${e.maxIncreaseOverStable})`, rate, stableRate);
    }
    const vs = stableRate !== undefined && relative ? ` (stable ${pct(stableRate)})` : '';
    return result(GateVerdict.Pass, thresholdOf(g), `error rate ${pct(rate)}${vs} within ${thresholdOf(g)}`, rate, stableRate);
  }

  const l = g.latency as NonNullable<Gate['latency']>;
  const r = m.latency[g.name];
  if (!r || !r.ok) return result(GateVerdict.Error, thresholdOf(g), `${g.name}: ${r?.message ?? 'not measured'}`);
  const p = `p${l.percentile}`;
  if (!Number.isFinite(r.value.canary)) return result(GateVerdict.Inconclusive, thresholdOf(g), `${g.name}: no ${p} latency data for ${sub.canary} in ${window}`);
  if (l.maxIncreaseOverStableMs !== undefined && !Number.isFinite(r.value.stable)) {
    return result(GateVerdict.Inconclusive, thresholdOf(g), `${g.name}: no ${p} latency data for stable ${sub.stable} in ${window}`, r.value.canary);
  }
  const stableValue = Number.isFinite(r.value.stable) ? r.value.stable : undefined;
  if (l.maxMs !== undefined && r.value.canary > l.maxMs) {
    return result(GateVerdict.Fail, thresholdOf(g), `${p} latency ${ms(r.value.canary)} > ${l.maxMs}ms`, r.value.canary, stableValue);
  }
  if (l.maxIncreaseOverStableMs !== undefined && stableValue !== undefined && r.value.canary - stableValue > l.maxIncreaseOverStableMs) {
    return result(GateVerdict.Fail, thresholdOf(g),
      `${p} latency ${ms(r.value.canary)} is ${ms(r.value.canary - stableValue)} above stable's ${ms(stableValue)} (allowed +${l.maxIncreaseOverStableMs}ms)`, r.value.canary, stableValue);
  }
  return result(GateVerdict.Pass, thresholdOf(g), `${p} latency ${ms(r.value.canary)} within ${thresholdOf(g)}`, r.value.canary, stableValue);
}

function tooFew(c: RequestCounts, min: number, who: string, window: string): string | undefined {
  if (c.total >= min && c.total > 0) return undefined;
  return `only ${Math.floor(c.total)} ${who} requests in the last ${window} (need ${Math.max(min, 1)})`;
}

export function thresholdOf(g: Gate): string {
  if (g.errorRate) {
    return [g.errorRate.max && `<= ${g.errorRate.max}`, g.errorRate.maxIncreaseOverStable && `<= stable + ${g.errorRate.maxIncreaseOverStable}`].filter(Boolean).join(' and ');
  }
  if (g.latency) {
    return [g.latency.maxMs !== undefined && `<= ${g.latency.maxMs}ms`, g.latency.maxIncreaseOverStableMs !== undefined && `<= stable + ${g.latency.maxIncreaseOverStableMs}ms`]
      .filter(Boolean).join(' and ');
  }
  return [g.min !== undefined && `>= ${g.min}`, g.max !== undefined && `<= ${g.max}`].filter(Boolean).join(' and ');
}
