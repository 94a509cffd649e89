// The README's runnable code blocks (those after a "<!-- runnable" comment),
// run as written with bash against a live release named reviews.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { Cluster, kubeconfigPath, waitForRelease } from './support/cluster.js';

const run = promisify(execFile);
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const c = new Cluster();
let op: OperatorProcess;
let dir: string;
let ns: string;

export function runnableBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const re = /<!-- runnable[^>]*-->\s*```sh\n([\s\S]*?)```/g;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) blocks.push(m[1] ?? '');
  return blocks;
}

beforeAll(async () => {
  op = startOperator();
  await op.ready();
  ns = await c.namespace('readme');
  await c.bookinfo(ns);
  await c.createRelease(ns, {
    service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
    stable: { subset: 'v1' }, canary: { subset: 'v2' }, steps: [{ weight: 10, duration: '10m' }, { weight: 100 }],
  });
  await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
  // The README's commands name no namespace: give them a kubeconfig whose context points at the test's.
  dir = await mkdtemp(join(tmpdir(), 'readme-'));
  await copyFile(kubeconfigPath(), join(dir, 'kubeconfig'));
  await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), 'config', 'set-context', '--current', `--namespace=${ns}`]);
}, 60_000);

afterAll(async () => {
  await op.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

describe('the README', () => {
  it('has runnable blocks, and each one succeeds as written', async () => {
    const blocks = runnableBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) {
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', block], {
        cwd: ROOT,
        timeout: 120_000,
        env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), PATH: `${join(ROOT, 'bin')}:${process.env.PATH}` },
      });
      expect(stdout).not.toContain('Error');
    }
    const r = await c.release(ns);
    expect(r?.status?.phase).toBe('Succeeded');
    expect(r?.spec.paused).toBe(false);
  }, 180_000);
});
