// Events beside the reconcile: in order per release, in parallel across
// releases, bounded, and all sent by flush().
import { describe, expect, test } from '@jest/globals';
import { BackgroundEventRecorder } from '../../../src/kube/background-events.js';
import type { CanaryReleaseObject, EventRecorder } from '../../../src/controller/ports.js';
import type { DecisionEvent } from '../../../src/core/decide.js';

const release = (name: string): CanaryReleaseObject => ({ apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease', metadata: { name, namespace: 'ns' } });
const ev = (reason: string): DecisionEvent => ({ type: 'Normal', reason, message: reason } as DecisionEvent);

/** A recorder whose sends finish only when the test says so. */
class Gated implements EventRecorder {
  readonly started: string[] = [];
  readonly sent: string[] = [];
  private readonly gates: (() => void)[] = [];
  async record(r: CanaryReleaseObject, e: DecisionEvent): Promise<void> {
    const what = `${r.metadata?.name}:${e.reason}`;
    this.started.push(what);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.sent.push(what);
  }
  release(n = 1): void {
    for (const g of this.gates.splice(0, n)) g();
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('BackgroundEventRecorder', () => {
  test('record returns before the Event is sent, and flush waits for it', async () => {
    const inner = new Gated();
    const bg = new BackgroundEventRecorder(inner);
    await bg.record(release('a'), ev('Started'));
    await settle();
    expect(inner.started).toEqual(['a:Started']);
    expect(inner.sent).toEqual([]);
    let flushed = false;
    const f = bg.flush().then(() => { flushed = true; });
    await settle();
    expect(flushed).toBe(false);
    inner.release();
    await f;
    expect(inner.sent).toEqual(['a:Started']);
    expect(bg.backlog).toBe(0);
  });

  test('a release\'s Events go out one after another in the order decided; another release\'s go meanwhile', async () => {
    const inner = new Gated();
    const bg = new BackgroundEventRecorder(inner, 256, 8);
    await bg.record(release('a'), ev('Started'));
    await bg.record(release('a'), ev('StepAdvanced'));
    await bg.record(release('b'), ev('Started'));
    await settle();
    // a's second waits for its first; b's first is sent beside a's.
    expect(inner.started).toEqual(['a:Started', 'b:Started']);
    inner.release(2);
    await settle();
    expect(inner.started).toEqual(['a:Started', 'b:Started', 'a:StepAdvanced']);
    inner.release(1);
    await bg.flush();
    expect(inner.sent).toEqual(['a:Started', 'b:Started', 'a:StepAdvanced']);
  });

  test('beyond the limit, record waits for room (backpressure, no unbounded backlog)', async () => {
    const inner = new Gated();
    const bg = new BackgroundEventRecorder(inner, 2, 8);
    await bg.record(release('a'), ev('E1'));
    await bg.record(release('b'), ev('E2'));
    let third = false;
    const p = bg.record(release('c'), ev('E3')).then(() => { third = true; });
    await settle();
    expect(third).toBe(false);
    expect(bg.backlog).toBe(2);
    inner.release(1);
    await p;
    expect(third).toBe(true);
    inner.release(2);
    await settle();
    inner.release(1);
    await bg.flush();
    expect(inner.sent.sort()).toEqual(['a:E1', 'b:E2', 'c:E3']);
  });

  test('at most `sending` Events go out at once, whatever the number of releases', async () => {
    const inner = new Gated();
    const bg = new BackgroundEventRecorder(inner, 256, 2);
    for (const name of ['a', 'b', 'c', 'd']) await bg.record(release(name), ev('Started'));
    await settle();
    expect(inner.started).toEqual(['a:Started', 'b:Started']);
    inner.release(1);
    await settle();
    expect(inner.started).toEqual(['a:Started', 'b:Started', 'c:Started']);
    inner.release(3);
    await settle();
    inner.release(3);
    await bg.flush();
    expect(inner.sent).toEqual(['a:Started', 'b:Started', 'c:Started', 'd:Started']);
  });

  test('a recorder that throws does not stop the release\'s later Events', async () => {
    const sent: string[] = [];
    const bg = new BackgroundEventRecorder({
      record: async (_r, e) => {
        if ((e.reason as string) === 'Bad') throw new Error('bug');
        sent.push(e.reason);
      },
    });
    await bg.record(release('a'), ev('Bad'));
    await bg.record(release('a'), ev('Good'));
    await bg.flush();
    expect(sent).toEqual(['Good']);
  });
});
