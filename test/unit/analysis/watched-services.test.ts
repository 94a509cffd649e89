// The Services of running releases: one sorted list, changed only when a release starts or ends.
import { describe, expect, test } from '@jest/globals';
import { WatchedServices } from '../../../src/analysis/watched-services.js';

describe('WatchedServices', () => {
  test('every running release\'s Services, sorted and without repeats', () => {
    const w = new WatchedServices();
    w.set('a/r1', ['reviews']);
    w.set('b/r2', ['ratings-v2', 'ratings-v1']);
    w.set('c/r3', ['reviews', 'reviews']);
    expect(w.list()).toEqual(['ratings-v1', 'ratings-v2', 'reviews']);
  });

  test('the same list object while nothing changed, so every round of a boundary sends the same query', () => {
    const w = new WatchedServices();
    w.set('a/r1', ['reviews']);
    const first = w.list();
    w.set('a/r1', ['reviews']);
    expect(w.list()).toBe(first);
  });

  test('a release that ends or is deleted takes its Services out, unless another release still uses them', () => {
    const w = new WatchedServices();
    w.set('a/r1', ['reviews']);
    w.set('b/r2', ['reviews', 'details']);
    w.delete('b/r2');
    expect(w.list()).toEqual(['reviews']);
    w.delete('a/r1');
    expect(w.list()).toEqual([]);
  });

  test('a release whose Services changed (a spec edit) is listed with its new ones only', () => {
    const w = new WatchedServices();
    w.set('a/r1', ['reviews']);
    w.set('a/r1', ['reviews-v2', 'reviews-v1']);
    expect(w.list()).toEqual(['reviews-v1', 'reviews-v2']);
  });
});

describe('WatchedServices per round slot', () => {
  test('a slot lists only the Services of its own releases', () => {
    const w = new WatchedServices();
    w.set('a/r1', ['reviews'], 0);
    w.set('b/r2', ['ratings'], 3000);
    w.set('c/r3', ['details'], 3000);
    expect(w.list(0)).toEqual(['reviews']);
    expect(w.list(3000)).toEqual(['details', 'ratings']);
    expect(w.list(6000)).toEqual([]);
  });

  test('a release whose slot changed (an edited interval) leaves its old slot', () => {
    const w = new WatchedServices();
    w.set('a/r1', ['reviews'], 0);
    expect(w.list(0)).toEqual(['reviews']);
    w.set('a/r1', ['reviews'], 2000);
    expect(w.list(0)).toEqual([]);
    expect(w.list(2000)).toEqual(['reviews']);
  });

  test('an end in one slot leaves the other slots\' lists as they were (same objects: the same queries)', () => {
    const w = new WatchedServices();
    w.set('a/r1', ['reviews'], 0);
    w.set('b/r2', ['ratings'], 1000);
    const other = w.list(1000);
    w.delete('a/r1');
    expect(w.list(0)).toEqual([]);
    expect(w.list(1000)).toBe(other);
  });
});
