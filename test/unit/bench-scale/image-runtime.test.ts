import { describe, expect, test } from '@jest/globals';
import { imageNodeFlags, imageRuntimeEnv, projectImageNodeFlags, projectImageRuntimeEnv } from '../../../bench/scale/image-runtime.js';
import { projectRoot } from '../../../test/harness/project-root.js';

describe('imageRuntimeEnv', () => {
  test('the ENV lines of the last stage only, quotes stripped', () => {
    const text = 'FROM node AS build\nENV BUILD_ONLY=1\nRUN x\nFROM node\nENV NODE_ENV=production\nENV NODE_OPTIONS="--max-semi-space-size=2"\nENV MALLOC_ARENA_MAX=2\n';
    expect(imageRuntimeEnv(text)).toEqual({ NODE_ENV: 'production', NODE_OPTIONS: '--max-semi-space-size=2', MALLOC_ARENA_MAX: '2' });
  });

  test('the node flags of the last stage\'s ENTRYPOINT, up to the script', () => {
    const text = 'FROM node AS build\nENTRYPOINT ["node", "--build"]\nFROM node\nENTRYPOINT ["node", "--heap-growing-percent=20", "--max-old-space-size=512", "dist/src/main.js", "--not-a-node-flag"]\n';
    expect(imageNodeFlags(text)).toEqual(['--heap-growing-percent=20', '--max-old-space-size=512']);
    expect(imageNodeFlags('FROM node\nENTRYPOINT ["node", "dist/src/main.js"]\n')).toEqual([]);
    expect(imageNodeFlags('FROM node\nENTRYPOINT ["/bin/sh", "-c", "x"]\n')).toEqual([]);
    expect(imageNodeFlags('FROM node\nCMD ["node"]\n')).toEqual([]);
  });

  test('the project\'s Dockerfile gives the operator its memory flags', () => {
    const env = projectImageRuntimeEnv(projectRoot());
    expect(env.NODE_OPTIONS).toMatch(/--max-semi-space-size=\d+/);
    expect(env.MALLOC_ARENA_MAX).toMatch(/^\d+$/);
    expect(projectImageNodeFlags(projectRoot())).toContainEqual(expect.stringMatching(/^--heap-growing-percent=\d+$/));
  });
});
