import { describe, expect, test } from '@jest/globals';
import { locationOf, summarizeProfile, type CpuProfile } from '../../../bench/scale/cpu-profile.js';

describe('cpu profile summary', () => {
  test('names where code lives', () => {
    expect(locationOf('file:///w/node_modules/@kubernetes/client-node/dist/config.js', 'createAgent')).toBe('@kubernetes/client-node');
    expect(locationOf('file:///w/node_modules/zod/v4/core/parse.js', 'x')).toBe('zod');
    expect(locationOf('node:_tls_wrap', 'connect')).toBe('node:_tls_wrap');
    expect(locationOf('file:///w/dist/src/core/decide.js', 'decide')).toBe('src/core');
    expect(locationOf('', '(garbage collector)')).toBe('(garbage collector)');
  });

  test('adds up self time by function and location, largest first', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
        { id: 2, callFrame: { functionName: 'decide', url: 'file:///w/dist/src/core/decide.js', lineNumber: 9 } },
        { id: 3, callFrame: { functionName: 'connect', url: 'node:_tls_wrap', lineNumber: 0 } },
      ],
      startTime: 0, endTime: 6000,
      samples: [2, 3, 3, 2],
      timeDeltas: [0, 1000, 2000, 3000],
    };
    const s = summarizeProfile(profile);
    expect(s.totalMs).toBe(6);
    expect(s.byLocation).toEqual([{ name: 'node:_tls_wrap', ms: 5 }, { name: 'src/core', ms: 1 }]);
    expect(s.byFunction[0]).toEqual({ name: 'connect node:_tls_wrap:1', ms: 5 });
  });
});
