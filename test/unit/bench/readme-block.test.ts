// The benchmark writes its table into the README between two markers.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { replaceBlock } from '../../../bench/judge/readme-block.js';
import { ROOT } from '../../e2e/support/helm.js';

describe('replaceBlock', () => {
  test('replaces what lies between the markers and keeps them, so the next run finds them again', () => {
    const once = replaceBlock('a\n<!-- t:begin -->\nold\n<!-- t:end -->\nb\n', 't', 'new\n');
    expect(once).toBe('a\n<!-- t:begin -->\nnew\n<!-- t:end -->\nb\n');
    expect(replaceBlock(once, 't', 'newer')).toBe('a\n<!-- t:begin -->\nnewer\n<!-- t:end -->\nb\n');
  });

  test('refuses a text without both markers, in order', () => {
    expect(() => replaceBlock('<!-- t:end --> <!-- t:begin -->', 't', 'x')).toThrow('no <!-- t:begin --> ... <!-- t:end --> markers');
    expect(() => replaceBlock('nothing here', 't', 'x')).toThrow();
  });

  test('the README has the bench:judge markers, with the command that fills them', () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    expect(() => replaceBlock(readme, 'bench:judge', 'x')).not.toThrow();
    expect(readme).toContain('npm run bench:judge -- --readme');
  });
});
