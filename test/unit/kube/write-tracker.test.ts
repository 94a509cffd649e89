import { describe, expect, test } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { WriteTracker } from '../../../src/kube/write-tracker.js';

const at = (rv: string, note = ''): KubernetesObject => ({ metadata: { name: 'r', resourceVersion: rv, annotations: { note } } });

describe('WriteTracker', () => {
  test('returns our write while the cache still shows the version it replaced', () => {
    const w = new WriteTracker();
    w.wrote('k', '1', at('2', 'ours'));
    expect(w.freshest('k', at('1'))?.metadata?.resourceVersion).toBe('2');
  });

  test('two writes in one reconcile (finalizer, then status): the latest is returned while the cache shows either earlier version', () => {
    const w = new WriteTracker();
    w.wrote('k', '1', at('2'));
    w.wrote('k', '2', at('3'));
    expect(w.freshest('k', at('1'))?.metadata?.resourceVersion).toBe('3');
    expect(w.freshest('k', at('2'))?.metadata?.resourceVersion).toBe('3');
  });

  test('once the cache has our write (or anything newer), the cache is the truth again', () => {
    const w = new WriteTracker();
    w.wrote('k', '1', at('2'));
    expect(w.freshest('k', at('2'))?.metadata?.resourceVersion).toBe('2');
    expect(w.freshest('k', at('1'))?.metadata?.resourceVersion).toBe('1');
    w.wrote('k', '5', at('6'));
    expect(w.freshest('k', at('9'))?.metadata?.resourceVersion).toBe('9');
  });

  test('a deleted object stays deleted', () => {
    const w = new WriteTracker();
    w.wrote('k', '1', at('2'));
    expect(w.freshest('k', undefined)).toBeUndefined();
  });
});
