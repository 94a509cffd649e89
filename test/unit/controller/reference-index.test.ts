// The index that wakes the releases referring to a changed object answers as a scan of every release would.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { ReferenceIndex } from '../../../src/controller/reference-index.js';

const REFS = ['ns/VirtualService/reviews', 'ns/DestinationRule/reviews', 'ns/Service/reviews', 'ns/VirtualService/ratings', 'other/VirtualService/reviews'];
const KEYS = ['ns/a', 'ns/b', 'ns/c', 'other/a'];

describe('ReferenceIndex', () => {
  test('a release is found through what it refers to now, not through what it referred to before, and not once deleted', () => {
    const index = new ReferenceIndex();
    index.set('ns/a', ['ns/VirtualService/reviews', 'ns/Service/reviews']);
    index.set('ns/b', ['ns/VirtualService/reviews']);
    expect([...index.referrersOf('ns/VirtualService/reviews')].sort()).toEqual(['ns/a', 'ns/b']);
    index.set('ns/a', ['ns/VirtualService/ratings']);
    expect([...index.referrersOf('ns/VirtualService/reviews')]).toEqual(['ns/b']);
    expect([...index.referrersOf('ns/Service/reviews')]).toEqual([]);
    expect([...index.referrersOf('ns/VirtualService/ratings')]).toEqual(['ns/a']);
    index.set('ns/a', []);
    index.set('ns/b', []);
    expect(index.size).toBe(0);
  });

  test('over random sequences of changes and deletions it answers as a scan of the releases would', () => {
    const change = fc.record({ key: fc.constantFrom(...KEYS), refs: fc.subarray(REFS) });
    fc.assert(fc.property(fc.array(change, { maxLength: 60 }), (changes) => {
      const index = new ReferenceIndex();
      const model = new Map<string, string[]>();
      for (const c of changes) {
        index.set(c.key, c.refs);
        if (c.refs.length > 0) model.set(c.key, c.refs);
        else model.delete(c.key);
        for (const ref of REFS) {
          const scanned = [...model].filter(([, refs]) => refs.includes(ref)).map(([k]) => k).sort();
          expect([...index.referrersOf(ref)].sort()).toEqual(scanned);
        }
        // What a release named last (the controller wakes the releases of its old routes too).
        for (const k of KEYS) expect([...index.refsOf(k)].sort()).toEqual([...(model.get(k) ?? [])].sort());
      }
      expect(index.size).toBe(new Set([...model.values()].flat()).size);
    }), { numRuns: 300 });
  });
});
