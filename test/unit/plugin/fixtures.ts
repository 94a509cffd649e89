// Sample CanaryReleases and Events as the API server returns them, a fake
// ReleaseApi and a recording Io for the plugin's unit tests.
import type { Io } from '../../../src/plugin/context.js';
import type { ReleaseApi, ReleaseEvent, ReleaseObject } from '../../../src/plugin/release-api.js';

export const NOW = new Date('2025-03-01T12:00:00.000Z');
export const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();

const condition = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, secondsAgo: number) => ({
  type, status, reason, message, lastTransitionTime: ago(secondsAgo), observedGeneration: 1,
});

/** reviews in bookinfo at step 2/3 with 50% on v2, analysis passing on one gate and inconclusive on another. */
export function progressing(): ReleaseObject {
  return {
    apiVersion: 'canary-operator.dev/v1alpha1',
    kind: 'CanaryRelease',
    metadata: { name: 'reviews', namespace: 'bookinfo', uid: 'uid-1', generation: 1, creationTimestamp: ago(600), annotations: {} },
    spec: {
      service: 'reviews',
      stable: { subset: 'v1' },
      canary: { subset: 'v2' },
      analysis: {
        onFailure: 'rollback',
        gates: [
          { name: 'errors', errorRate: { max: '1%' } },
          { name: 'p99', latency: { percentile: 99, maxMs: 500, maxIncreaseOverStableMs: 100 } },
          { name: 'saturation', query: 'max(x)', max: 0.8 },
        ],
      },
    },
    status: {
      phase: 'Progressing',
      message: 'Step 2/3: 50% of traffic to v2 for 2m; next step after 2025-03-01T12:01:00.000Z',
      observedGeneration: 1,
      stableSubset: 'v1',
      canarySubset: 'v2',
      currentStep: 2,
      totalSteps: 3,
      canaryWeight: 50,
      releaseStartedAt: ago(300),
      stepStartedAt: ago(60),
      analysis: {
        evaluatedAt: ago(10),
        verdict: 'Inconclusive',
        consecutiveFailures: 0,
        inconclusiveSince: ago(40),
        gates: [
          { name: 'errors', query: 'q1', value: 0.4567, stableValue: 0.1, threshold: '<= 1%', verdict: 'Pass', message: 'error rate 0.46% within <= 1%' },
          { name: 'p99', query: 'q2', value: 231.25, stableValue: 198, threshold: '<= 500ms and <= stable + 100ms', verdict: 'Pass', message: 'p99 latency 231ms within <= 500ms' },
          { name: 'saturation', query: 'q3', threshold: '<= 0.8', verdict: 'Inconclusive', message: 'saturation: the query returned no data' },
        ],
      },
      conditions: [
        condition('SpecValid', 'True', 'SpecValid', 'The spec is valid', 300),
        condition('Progressing', 'True', 'StepInProgress', 'Step 2/3: 50% of traffic to v2 for 2m', 60),
        condition('Promoted', 'False', 'NotPromoted', 'v2 has not been promoted', 300),
      ],
    },
  };
}

export function withStatus(patch: Partial<NonNullable<ReleaseObject['status']>>, base = progressing()): ReleaseObject {
  return { ...base, status: { ...base.status, ...patch } };
}

/** Events in the order a list returns them (by name, not by time). */
export function events(): ReleaseEvent[] {
  return [
    { metadata: { name: 'reviews.c', resourceVersion: '130' }, type: 'Normal', reason: 'StepAdvanced', message: 'Step 2/3: 50% of traffic to v2 for 2m (v1 gets 50%)', lastTimestamp: new Date(ago(60)), count: 1, involvedObject: { uid: 'uid-1' } },
    { metadata: { name: 'reviews.a', resourceVersion: '101' }, type: 'Normal', reason: 'Started', message: 'Release v1 -> v2 started', lastTimestamp: new Date(ago(300)), count: 1, involvedObject: { uid: 'uid-1' } },
    { metadata: { name: 'reviews.b', resourceVersion: '102' }, type: 'Normal', reason: 'StepAdvanced', message: 'Step 1/3: 10% of traffic to v2 for 1m (v1 gets 90%)', lastTimestamp: new Date(ago(300)), count: 1, involvedObject: { uid: 'uid-1' } },
    { metadata: { name: 'reviews.d', resourceVersion: '140' }, type: 'Warning', reason: 'TrafficDrift', message: 'Someone set v1=100 v2=0; re-applied 50%', lastTimestamp: ago(30), count: 3, involvedObject: { uid: 'uid-1' } },
  ];
}

export class FakeApi implements ReleaseApi {
  readonly patches: { namespace: string; name: string; body: Record<string, unknown> }[] = [];
  /** Successive answers of get(); the last one repeats. An Error is thrown. */
  gets: (ReleaseObject | Error)[];
  eventList: ReleaseEvent[] = [];
  listed: { namespace: string | undefined }[] = [];

  constructor(...gets: (ReleaseObject | Error)[]) {
    this.gets = gets;
  }

  async get(namespace: string, name: string): Promise<ReleaseObject> {
    const next = this.gets.length > 1 ? this.gets.shift() : this.gets[0];
    if (next === undefined) throw Object.assign(new Error('not found'), { code: 404, body: '{"kind":"Status","reason":"NotFound"}' });
    if (next instanceof Error) throw next;
    if (next.metadata.namespace !== namespace || next.metadata.name !== name) {
      throw Object.assign(new Error('not found'), { code: 404, body: `{"kind":"Status","reason":"NotFound","details":{"name":"${name}"}}` });
    }
    return next;
  }

  async list(namespace: string | undefined): Promise<ReleaseObject[]> {
    this.listed.push({ namespace });
    if (this.gets[0] instanceof Error) throw this.gets[0];
    return this.gets.filter((g): g is ReleaseObject => !(g instanceof Error) && (namespace === undefined || g.metadata.namespace === namespace));
  }

  async mergePatch(namespace: string, name: string, body: Record<string, unknown>): Promise<ReleaseObject> {
    this.patches.push({ namespace, name, body });
    return this.get(namespace, name);
  }

  async events(): Promise<ReleaseEvent[]> {
    return this.eventList;
  }
}

/** An Io that records output and runs on a fake clock: sleep() advances it. */
export class FakeIo implements Io {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly sleeps: number[] = [];
  isTTY = false;
  private t = NOW.getTime();
  onSleep?: (io: FakeIo) => void;

  out(text: string): void {
    this.stdout.push(text);
  }
  err(text: string): void {
    this.stderr.push(text);
  }
  now(): Date {
    return new Date(this.t);
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
    this.onSleep?.(this);
  }
  get out_(): string {
    return this.stdout.join('\n');
  }
  get err_(): string {
    return this.stderr.join('\n');
  }
}
