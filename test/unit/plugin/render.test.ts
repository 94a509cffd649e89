import { describe, expect, it } from '@jest/globals';
import { formatAge, table } from '../../../src/plugin/format.js';
import { eventsOf, renderEvents, sortEvents } from '../../../src/plugin/render-events.js';
import { renderGates } from '../../../src/plugin/render-gates.js';
import { GateVerdict } from '../../../src/api/analysis-status.js';
import { renderList } from '../../../src/plugin/render-list.js';
import { renderStatus, renderStatusLine, weightsOf } from '../../../src/plugin/render-status.js';
import { NOW, ago, events, progressing, withStatus } from './fixtures.js';

const lines = (text: string) => text.split('\n');

describe('status rendering', () => {
  it('shows phase, step, both weights, message and start in a header block', () => {
    const text = renderStatus(progressing(), events(), NOW);
    expect(lines(text).slice(0, 8)).toEqual([
      'CanaryRelease bookinfo/reviews',
      '  Phase:       Progressing',
      '  Step:        2/3',
      '  Weights:     v1 (stable) 50%   v2 (canary) 50%',
      '  Message:     Step 2/3: 50% of traffic to v2 for 2m; next step after 2025-03-01T12:01:00.000Z',
      `  Started:     ${ago(300)} (5m ago)`,
      `  Step since:  ${ago(60)} (1m ago)`,
      '',
    ]);
  });

  it('lists the conditions as a table with their age', () => {
    const text = renderStatus(progressing(), [], NOW);
    expect(text).toContain([
      'Conditions:',
      '  TYPE          STATUS   REASON           AGE   MESSAGE',
      '  SpecValid     True     SpecValid        5m    The spec is valid',
      '  Progressing   True     StepInProgress   1m    Step 2/3: 50% of traffic to v2 for 2m',
      '  Promoted      False    NotPromoted      5m    v2 has not been promoted',
    ].join('\n'));
  });

  it('shows every gate with value and stable value in the gate\'s unit, threshold and verdict', () => {
    const r = progressing();
    const text = renderGates(r.status?.analysis, r.spec?.analysis?.gates, NOW, 'rollback').join('\n');
    expect(text).toBe([
      `Gates: Inconclusive at ${ago(10)} (10s ago), 0 consecutive failing rounds, on failure: rollback, inconclusive since ${ago(40)}`,
      '  GATE         VERDICT        VALUE      STABLE   THRESHOLD                        MESSAGE',
      '  errors       Pass           0.457%     0.1%     <= 1%                            error rate 0.46% within <= 1%',
      '  p99          Pass           231.25ms   198ms    <= 500ms and <= stable + 100ms   p99 latency 231ms within <= 500ms',
      '  saturation   Inconclusive   -          -        <= 0.8                           saturation: the query returned no data',
    ].join('\n'));
    expect(renderStatus(r, [], NOW)).toContain(text);
  });

  it('shows a sequential gate\'s event shares in percent, with its evidence as the message', () => {
    const analysis = {
      evaluatedAt: ago(10), verdict: GateVerdict.Judging, consecutiveFailures: 0,
      gates: [{ name: 'errors-vs-stable', query: 'q', value: 1.2, stableValue: 1, threshold: "<= 1.2x stable's 5xx share; false rollbacks <= 1%", verdict: GateVerdict.Judging,
        message: "canary error rate 1.2x stable's, 3 of 250 vs 22 of 2,200; evidence 0.6 against a bound of 100" }],
    };
    const text = renderGates(analysis, [{ name: 'errors-vs-stable', sequential: { errorRate: {} } }], NOW).join('\n');
    expect(text).toContain("errors-vs-stable   Judging   1.2%    1%       <= 1.2x stable's 5xx share; false rollbacks <= 1%   canary error rate 1.2x stable's");
  });

  it('says when gates are configured but not evaluated yet, and shows nothing without analysis', () => {
    const r = withStatus({ analysis: undefined });
    expect(renderGates(undefined, r.spec?.analysis?.gates, NOW)).toEqual(['Gates: 3 configured, not evaluated yet (they run while the canary has traffic)']);
    expect(renderGates(undefined, undefined, NOW)).toEqual([]);
    const noAnalysis = { ...r, spec: { ...r.spec, analysis: undefined } };
    expect(renderStatus(noAnalysis, [], NOW)).not.toContain('Gates');
  });

  it('sorts Events by time, oldest first, breaking same-second ties by resourceVersion', () => {
    const sorted = sortEvents(events()).map((e) => e.metadata?.name);
    expect(sorted).toEqual(['reviews.a', 'reviews.b', 'reviews.c', 'reviews.d']);
    expect(renderEvents(events(), NOW)).toEqual([
      'Events:',
      '  AGE   TYPE      REASON         MESSAGE',
      '  5m    Normal    Started        Release v1 -> v2 started',
      '  5m    Normal    StepAdvanced   Step 1/3: 10% of traffic to v2 for 1m (v1 gets 90%)',
      '  1m    Normal    StepAdvanced   Step 2/3: 50% of traffic to v2 for 2m (v1 gets 50%)',
      '  30s   Warning   TrafficDrift   Someone set v1=100 v2=0; re-applied 50% (x3)',
    ]);
  });

  it('shows only the most recent Events, and says so', () => {
    const many = Array.from({ length: 15 }, (_, i) => ({ reason: `R${i}`, message: `m${i}`, type: 'Normal', lastTimestamp: ago(100 - i) }));
    const out = renderEvents(many, NOW, 10);
    expect(out[0]).toBe('Events (last 10 of 15):');
    expect(out.at(-1)).toContain('R14');
    expect(out.join('\n')).not.toContain('R4 ');
    expect(renderEvents([], NOW)).toEqual(['Events: none']);
  });

  it('keeps only the Events of this object, not of an earlier release with the same name', () => {
    const list = [...events(), { reason: 'Old', involvedObject: { uid: 'uid-0' } }, { reason: 'NoUid' }];
    expect(eventsOf(list, 'uid-1').map((e) => e.reason)).not.toContain('Old');
    expect(eventsOf(list, 'uid-1').map((e) => e.reason)).toContain('NoUid');
    expect(eventsOf(list, undefined)).toHaveLength(6);
  });

  it('says who paused a release, and what analysis asks a person to decide', () => {
    const bySpec = withStatus({ phase: 'Paused', pausedBy: 'spec', pausedAt: ago(20) });
    expect(renderStatus(bySpec, [], NOW)).toContain(`  Paused:      by spec.paused since ${ago(20)} (20s ago)`);
    const byAnalysis = withStatus({ phase: 'Paused', pausedBy: 'analysis', pausedAt: ago(20) });
    expect(renderStatus(byAnalysis, [], NOW)).toContain('by analysis (a person decides: resume, promote or abort)');
    const requested = { ...progressing(), spec: { ...progressing().spec, paused: true } };
    expect(renderStatus(requested, [], NOW)).toContain('spec.paused is true; the operator has not paused the release yet');
  });

  it('tells what to type next, one whole command per line that pastes as is', () => {
    const byAnalysis = renderStatus(withStatus({ phase: 'Paused', pausedBy: 'analysis', pausedAt: ago(20) }), [], NOW).split('\n');
    const at = byAnalysis.findIndex((l) => l.startsWith('  Decide:'));
    expect(byAnalysis.slice(at, at + 3)).toEqual([
      '  Decide:      kubectl canary resume reviews -n bookinfo',
      '               kubectl canary promote reviews -n bookinfo',
      '               kubectl canary abort reviews -n bookinfo',
    ]);
    expect(renderStatus(withStatus({ phase: 'RolledBack' }), [], NOW)).toContain('  Retry:       kubectl canary retry reviews -n bookinfo');
    expect(renderStatus(withStatus({ phase: 'Paused', pausedBy: 'spec' }), [], NOW)).toContain('  Resume:      kubectl canary resume reviews -n bookinfo');
    expect(renderStatus(progressing(), [], NOW)).not.toMatch(/Decide:|Retry:|Resume:/);
    // Nothing a shell would read differently: no $(...), no | alternatives, no <placeholders>.
    for (const line of byAnalysis.filter((l) => l.includes('kubectl'))) expect(line).not.toMatch(/[$|<>`]/);
  });

  it('points out pending requests and a status that lags the spec', () => {
    const r = progressing();
    r.metadata.annotations = { 'canary-operator.dev/promote': 'p-1' };
    expect(renderStatus(r, [], NOW)).toContain('  Requests:    promote (p-1) not handled yet');
    const stale = progressing();
    stale.metadata.generation = 2;
    expect(renderStatus(stale, [], NOW)).toContain('  Note:        the status is of spec generation 1, the spec is at generation 2');
  });

  it('renders a release the operator has not seen yet', () => {
    const r = progressing();
    delete r.status;
    const text = renderStatus(r, [], NOW);
    expect(text).toContain('  Phase:       not started (no status yet)');
    expect(text).toContain('  Step:        -');
    expect(text).toContain('  Weights:     v1 (stable) 100%   v2 (canary) 0%');
    expect(text).toContain('Conditions: none');
  });

  it('computes the stable/canary split from canaryWeight', () => {
    expect(weightsOf(withStatus({ canaryWeight: 100 }))).toEqual({ stable: { subset: 'v1', weight: 0 }, canary: { subset: 'v2', weight: 100 } });
    expect(weightsOf(withStatus({ canaryWeight: undefined })).stable.weight).toBe(100);
  });

  it('has a one-line form for watch --plain', () => {
    expect(renderStatusLine(progressing())).toBe(
      'Progressing step 2/3   v1=50% v2=50%  gates Inconclusive  Step 2/3: 50% of traffic to v2 for 2m; next step after 2025-03-01T12:01:00.000Z');
  });
});

describe('list rendering', () => {
  it('prints one row per release, sorted, with NAMESPACE only for -A', () => {
    const other = withStatus({ phase: 'Succeeded', canaryWeight: 100, currentStep: 3, message: 'Promoted', analysis: undefined });
    other.metadata = { ...other.metadata, name: 'details', namespace: 'bookinfo' };
    const text = renderList([progressing(), other], NOW, false);
    expect(lines(text)).toEqual([
      'NAME      PHASE         STEP   WEIGHT   STABLE   CANARY   GATES          AGE   MESSAGE',
      'details   Succeeded     3/3    100%     v1       v2       -              10m   Promoted',
      `reviews   Progressing   2/3    50%      v1       v2       Inconclusive   10m   ${progressing().status?.message}`,
    ]);
    expect(lines(renderList([progressing()], NOW, true))[0]).toMatch(/^NAMESPACE\s+NAME\s+PHASE/);
    expect(lines(renderList([progressing()], NOW, true))[1]).toMatch(/^bookinfo\s+reviews\s+Progressing/);
  });
});

describe('format helpers', () => {
  it('writes ages as kubectl does', () => {
    expect([5, 59, 60, 200, 600, 3599, 3600, 3660 * 2, 36_000, 3600 * 47, 3600 * 72].map((s) => formatAge(s * 1000)))
      .toEqual(['5s', '59s', '1m', '3m20s', '10m', '59m', '1h', '2h2m', '10h', '47h', '3d']);
    expect(formatAge(-5000)).toBe('0s');
  });

  it('aligns columns with the last one unpadded', () => {
    expect(table(['A', 'BB'], [['xxx', 'y'], ['z', '']], '  ')).toEqual(['  A     BB', '  xxx   y', '  z']);
  });
});
