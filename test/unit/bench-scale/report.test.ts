// The report's first line names what was measured: main, or the branch beside
// the main commit it starts from.
import { describe, expect, test } from '@jest/globals';
import { measuredOn } from '../../../bench/scale/report.js';

describe('measuredOn', () => {
  test('names main alone when HEAD is main', () => {
    expect(measuredOn({ mainCommit: '4611a41', branch: 'main', branchCommit: '4611a41' })).toBe('main 4611a41');
    expect(measuredOn({ mainCommit: '4611a41', branch: 'HEAD', branchCommit: '4611a41 + uncommitted changes' })).toBe('main 4611a41 + uncommitted changes');
  });

  test('names the branch checked out, or a detached HEAD', () => {
    expect(measuredOn({ mainCommit: '4611a41', branch: 'scale-on-main', branchCommit: 'af647d8' })).toBe('main 4611a41 (measured on branch scale-on-main af647d8)');
    expect(measuredOn({ mainCommit: '4611a41', branch: 'HEAD', branchCommit: 'af647d8' })).toBe('main 4611a41 (measured on a detached HEAD af647d8)');
  });
});
