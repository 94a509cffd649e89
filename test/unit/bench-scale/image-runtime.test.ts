import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageNodeFlags, imageNodeScript, imageRuntimeEnv, projectImageNodeFlags, projectImageNodeScript, projectImageRuntimeEnv } from '../../../bench/scale/image-runtime.js';
import { operatorScript } from '../../../bench/scale/operator-process.js';
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

  test('the script of the last stage\'s ENTRYPOINT: the first argument after node\'s flags', () => {
    expect(imageNodeScript('FROM node AS build\nENTRYPOINT ["node", "build.js"]\nFROM node\nENTRYPOINT ["node", "--heap-growing-percent=20", "dist/operator.js", "--not-a-node-flag"]\n')).toBe('dist/operator.js');
    expect(imageNodeScript('FROM node\nENTRYPOINT ["node", "--heap-growing-percent=20"]\n')).toBeUndefined();
    expect(imageNodeScript('FROM node\nENTRYPOINT ["/bin/sh", "-c", "node x.js"]\n')).toBeUndefined();
  });

  test('the benchmark runs the image\'s script, or the unbundled one under --cpu-prof (its frames name their files)', () => {
    const root = projectRoot();
    expect(operatorScript(root, false)).toBe(projectImageNodeScript(root));
    expect(operatorScript(root, true)).toBe(join(root, 'dist', 'src', 'main.js'));
  });

  test('the project\'s image runs the package\'s main, the bundle', () => {
    const root = projectRoot();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
    expect(projectImageNodeScript(root)).toBe(join(root, pkg.main));
    expect(pkg.main).toBe('dist/operator.js');
  });

  test('the project\'s Dockerfile gives the operator its memory flags', () => {
    const env = projectImageRuntimeEnv(projectRoot());
    expect(env.NODE_OPTIONS).toMatch(/--max-semi-space-size=\d+/);
    expect(env.MALLOC_ARENA_MAX).toMatch(/^\d+$/);
    expect(projectImageNodeFlags(projectRoot())).toContainEqual(expect.stringMatching(/^--heap-growing-percent=\d+$/));
  });
});
