// The container image's install and start steps, outside Docker (which cannot
// run here): what the Dockerfile does, in the same order. `npm pack` the
// built project, unpack it with the lockfile, `npm ci --omit=dev`, then start
// the ENTRYPOINT (node, its flags, dist/operator.js) from the unpacked package with a
// container-like environment: as uid 10001 (when the tests run as root) on
// files it cannot write, with nothing of the repository around it.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePorts } from '../harness/free-port.js';
import { Cluster, kubeconfigPath, waitFor, waitForRelease } from './support/cluster.js';
import { ROOT } from './support/helm.js';

const run = promisify(execFile);
const IMAGE_UID = 10001;
const asImageUser = process.getuid?.() === 0;
const c = new Cluster();
const work = mkdtempSync(join(tmpdir(), 'canary-image-'));
const app = join(work, 'app');
let packed: string[] = [];

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string };

beforeAll(async () => {
  if (!existsSync(join(ROOT, pkg.main))) throw new Error(`${pkg.main} is missing: run npm run build first (npm test does)`);
  // Build stage: npm pack, unpack, add the lockfile.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, timeout: 120_000, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packed = info!.files.map((f) => f.path).sort();
  mkdirSync(app);
  await run('tar', ['-xzf', join(work, info!.filename), '-C', app, '--strip-components=1']);
  copyFileSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  // Runtime stage: production dependencies exactly as locked.
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: app, timeout: 8 * 60_000, maxBuffer: 16 << 20, env: { ...process.env, NODE_ENV: 'production' },
  });
  // The image's files are root-owned and read-only to the operator.
  if (asImageUser) chmodSync(work, 0o755);
  else await run('chmod', ['-R', 'a-w', app]);
}, 10 * 60_000);

afterAll(async () => {
  await run('chmod', ['-R', 'u+w', work]).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

describe('the image contents', () => {
  it('the Dockerfile is the install tested here', () => {
    expect(dockerfile).toMatch(/npm pack --pack-destination/);
    expect(dockerfile).toMatch(/tar -xzf .* --strip-components=1/);
    expect(dockerfile).toMatch(/cp package-lock.json/);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev --ignore-scripts/m);
    expect(dockerfile).toMatch(new RegExp(`^USER ${IMAGE_UID}`, 'm'));
  });

  it('hold the compiled operator and the CRD, and no sources, tests or tools', () => {
    expect(packed).toEqual(expect.arrayContaining([pkg.main, 'crds/canaryrelease.yaml', 'package.json']));
    expect(packed.filter((p) => /^(src|test|tools|helm|deploy|scripts|node_modules)\/|^dist\/(test|tools)\/|\.ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
  });

  it('link the bundle to its source map, which --enable-source-maps reads', () => {
    expect(packed).toContain(`${pkg.main}.map`);
    const lastLine = readFileSync(join(app, pkg.main), 'utf8').trimEnd().split('\n').at(-1);
    expect(lastLine).toBe(`//# sourceMappingURL=${pkg.main.split('/').at(-1)}.map`);
  });

  it('installs the runtime dependencies only', () => {
    const has = (m: string) => existsSync(join(app, 'node_modules', m, 'package.json'));
    for (const m of ['@kubernetes/client-node', 'pino', 'prom-client', 'zod']) expect(has(m)).toBe(true);
    for (const m of ['typescript', 'jest', 'ts-jest', '@jest/globals']) expect(has(m)).toBe(false);
  });
});

describe('the entrypoint, started as the image starts it', () => {
  it('answers /healthz, becomes ready, reconciles a release, and exits 0 on SIGTERM', async () => {
    const ns = await c.namespace('image');
    const [port] = (await freePorts(1)) as [number];
    const kubeconfig = join(work, 'kubeconfig');
    copyFileSync(kubeconfigPath(), kubeconfig);
    if (asImageUser) chownSync(kubeconfig, IMAGE_UID, IMAGE_UID);
    const [command, ...args] = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(command).toBe('node');
    // What a container has: the image's PATH and NODE_ENV, HOME=/ for a user without a passwd entry, and the pod's env.
    const child = spawn(process.execPath, args, {
      cwd: app,
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/', NODE_ENV: 'production',
        KUBECONFIG: kubeconfig, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', WATCH_NAMESPACES: ns,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asImageUser ? { uid: IMAGE_UID, gid: IMAGE_UID } : {}),
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const status = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
    try {
      await waitFor('/healthz 200', async () => (await status('/healthz')) === 200, 20_000);
      await waitFor('/readyz 200', async () => (await status('/readyz')) === 200, 30_000);
      expect(await status('/metrics')).toBe(200);
      if (asImageUser) expect(readFileSync(`/proc/${child.pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${IMAGE_UID}\\s`, 'm'));

      await c.bookinfo(ns);
      await c.createRelease(ns, {
        service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
        stable: { subset: 'v1' }, canary: { subset: 'v2' }, steps: [{ weight: 100 }],
      });
      await waitForRelease(c, ns, 'Succeeded', (r) => r.status?.phase === 'Succeeded', 30_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${String(err)}\noperator output:\n${output.split('\n').slice(-30).join('\n')}`);
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/"msg":"stopped"/);
  }, 60_000);
});
