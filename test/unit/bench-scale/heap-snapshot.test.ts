import { describe, expect, test } from '@jest/globals';
import { summarizeHeap, type HeapSnapshot } from '../../../bench/scale/heap-snapshot.js';

describe('heap snapshot summary', () => {
  test('adds up self sizes by constructor for objects and by kind otherwise', () => {
    const h: HeapSnapshot = {
      snapshot: { meta: { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'], node_types: [['hidden', 'array', 'string', 'object', 'closure'], 'string', 'number', 'number', 'number'] } },
      // type, name, id, self_size, edge_count
      nodes: [3, 0, 1, 100, 0, 3, 0, 2, 50, 0, 2, 1, 3, 30, 0, 4, 2, 4, 10, 0, 3, 3, 5, 500, 0],
      strings: ['V1Deployment', 'hello', 'decide', 'Map'],
    };
    expect(summarizeHeap(h)).toEqual({
      totalBytes: 690,
      nodes: 5,
      top: [
        { name: 'Map', count: 1, bytes: 500 },
        { name: 'V1Deployment', count: 2, bytes: 150 },
        { name: '(string)', count: 1, bytes: 30 },
        { name: 'decide (closure)', count: 1, bytes: 10 },
      ],
    });
  });
});
