// Events as client-go's recorder makes them: a repeat within 10 minutes counts
// into the first Event (one PATCH) instead of creating another object.
import { describe, expect, test } from '@jest/globals';
import type { CoreV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Reason } from '../../../src/api/conditions.js';
import type { DecisionEvent } from '../../../src/core/decide.js';
import { KubeEventRecorder } from '../../../src/kube/event-recorder.js';
import { AGGREGATE_MS, EventSeries, seriesKey } from '../../../src/kube/event-series.js';
import type { CanaryReleaseObject } from '../../../src/controller/ports.js';
import { NOW, NS } from '../release-fixtures.js';

/** The two Event calls the recorder makes, logged; patches of unknown names answer 404. */
class FakeEvents {
  readonly calls: string[] = [];
  readonly events = new Map<string, { count: number; lastTimestamp: Date }>();
  createNamespacedEvent(p: { body: { metadata: { name: string }; count: number; lastTimestamp: Date } }) {
    this.calls.push('create');
    this.events.set(p.body.metadata.name, { count: p.body.count, lastTimestamp: p.body.lastTimestamp });
    return Promise.resolve({});
  }
  patchNamespacedEvent(p: { name: string; body: { count: number; lastTimestamp: Date } }) {
    this.calls.push('patch');
    if (!this.events.has(p.name)) return Promise.reject(new Error('HTTP-Code: 404'));
    this.events.set(p.name, p.body);
    return Promise.resolve({});
  }
}

const release: CanaryReleaseObject = {
  apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease', metadata: { name: 'reviews', namespace: NS, uid: 'u-1', resourceVersion: '7' }, spec: {},
};
const held: DecisionEvent = { type: 'Warning', reason: Reason.RouteInUse, message: 'route reviews is used by release reviews-a; waiting' };

function recorder(max?: number) {
  let now = NOW.getTime();
  const api = new FakeEvents();
  const r = new KubeEventRecorder(api as unknown as CoreV1Api, pino({ enabled: false }), 'op-1', new EventSeries(max), () => new Date(now));
  return { api, r, advance: (ms: number) => (now += ms) };
}

describe('KubeEventRecorder', () => {
  test('a repeat within 10 minutes is counted into the first Event: one create, then patches of count and lastTimestamp', async () => {
    const { api, r, advance } = recorder();
    await r.record(release, held);
    advance(60_000);
    await r.record(release, held);
    advance(60_000);
    await r.record(release, held);
    expect(api.calls).toEqual(['create', 'patch', 'patch']);
    const [only] = [...api.events.values()];
    expect(api.events.size).toBe(1);
    expect(only).toEqual({ count: 3, lastTimestamp: new Date(NOW.getTime() + 120_000) });
  });

  test('another message, reason, type or object is another Event', async () => {
    const { api, r } = recorder();
    await r.record(release, held);
    await r.record(release, { ...held, message: 'route reviews is used by release reviews-b; waiting' });
    await r.record(release, { ...held, reason: Reason.TrafficDrift });
    await r.record(release, { ...held, type: 'Normal' });
    await r.record({ ...release, metadata: { ...release.metadata, uid: 'u-2' } }, held);
    expect(api.calls).toEqual(['create', 'create', 'create', 'create', 'create']);
  });

  test('a repeat more than 10 minutes after the last one starts a new Event', async () => {
    const { api, r, advance } = recorder();
    await r.record(release, held);
    advance(AGGREGATE_MS + 1);
    await r.record(release, held);
    expect(api.calls).toEqual(['create', 'create']);
  });

  test('an Event that is gone (expired, deleted) is created again, and counted from there', async () => {
    const { api, r } = recorder();
    await r.record(release, held);
    api.events.clear();
    await r.record(release, held);
    await r.record(release, held);
    expect(api.calls).toEqual(['create', 'patch', 'create', 'patch']);
  });

  test('a series is keyed by a digest of 43 characters whatever the message (up to 1,024), and only the same Event has the same key', () => {
    const long = 'Step 2/3: 50% of traffic to v2 for 30s, after gates passed: '.padEnd(1024, 'x');
    const key = seriesKey(NS, 'reviews', 'u-1', 'Normal', Reason.StepAdvanced, long);
    expect(key).toHaveLength(43);
    expect(seriesKey(NS, 'reviews', 'u-1', 'Normal', Reason.StepAdvanced, long)).toBe(key);
    const others = [
      seriesKey(NS, 'reviews', 'u-1', 'Normal', Reason.StepAdvanced, `${long.slice(0, -1)}y`),
      seriesKey(NS, 'reviews', 'u-2', 'Normal', Reason.StepAdvanced, long),
      seriesKey(NS, 'reviews', 'u-1', 'Warning', Reason.StepAdvanced, long),
      seriesKey(NS, 'reviews', 'u-1', 'Normal', Reason.Promoted, long),
      seriesKey(NS, 'ratings', 'u-1', 'Normal', Reason.StepAdvanced, long),
      seriesKey('other', 'reviews', 'u-1', 'Normal', Reason.StepAdvanced, long),
      // The fields are kept apart: a name ending where a namespace starts is not the same object.
      seriesKey(`${NS}r`, 'eviews', 'u-1', 'Normal', Reason.StepAdvanced, long),
    ];
    expect(new Set([key, ...others]).size).toBe(others.length + 1);
  });

  test('the series kept are bounded: the oldest is forgotten first', async () => {
    const { api, r } = recorder(2);
    for (const m of ['a', 'b', 'c']) await r.record(release, { ...held, message: m });
    await r.record(release, { ...held, message: 'a' });
    await r.record(release, { ...held, message: 'c' });
    expect(api.calls).toEqual(['create', 'create', 'create', 'create', 'patch']);
  });
});
