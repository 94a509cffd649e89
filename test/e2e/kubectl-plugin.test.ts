// The built kubectl plugin (bin/kubectl-canary -> dist/src/plugin/main.js)
// against the real kube-apiserver with the real operator: people steer
// releases with `kubectl canary ...` and scripts rely on its exit codes.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { operatorForSuite } from './support/suite.js';
import { Cluster, condition, kubeconfigPath, waitFor, waitForRelease } from './support/cluster.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const BIN_DIR = join(ROOT, 'bin');
const PLUGIN = join(BIN_DIR, 'kubectl-canary');
const PLUGIN_MAIN = join(ROOT, 'dist', 'src', 'plugin', 'main.js');

const c = new Cluster();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The built plugin, as `node bin/kubectl-canary ARGS --kubeconfig <e2e cluster>`. */
const canary = (...args: string[]) => exec(process.execPath, [PLUGIN, ...args, '--kubeconfig', kubeconfigPath()]);

/** kubectl with the repo's bin dir first on PATH, so it discovers the plugin as `kubectl canary`. */
const kubectlWithPlugin = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  exec('kubectl', args, { ...process.env, PATH: `${BIN_DIR}${delimiter}${process.env.PATH ?? ''}`, ...env });

const spec = (steps: unknown[]) => ({
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' },
  canary: { subset: 'v2' },
  steps,
});

async function releaseAtStep1(prefix: string, steps: unknown[]): Promise<string> {
  const ns = await c.namespace(prefix);
  await c.bookinfo(ns);
  await c.createRelease(ns, spec(steps));
  await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1 && r.status?.phase === 'Progressing');
  return ns;
}

beforeAll(() => {
  if (!existsSync(PLUGIN_MAIN)) throw new Error(`${PLUGIN_MAIN} is missing: run "npm run build" before the e2e tests`);
});
operatorForSuite();

describe('kubectl canary', () => {
  it('status shows phase, step, weights, message, conditions and the Events in time order', async () => {
    // A canary that becomes available only after the start: Started and StepAdvanced are two Events,
    // often within one second (the plugin orders them by resourceVersion then).
    const ns = await c.namespace('plugin-status');
    await c.bookinfo(ns, { unavailable: ['v2'] });
    await c.createRelease(ns, spec([{ weight: 30, duration: '10m' }, { weight: 100 }]));
    await c.eventsWith(ns, ['Started', 'WaitingForCanary']);
    await c.setAvailable(ns, 'reviews-v2', true);
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1 && r.status?.phase === 'Progressing');
    await c.eventsWith(ns, ['StepAdvanced']);
    const { code, stdout, stderr } = await canary('status', 'reviews', '-n', ns);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`CanaryRelease ${ns}/reviews`);
    expect(stdout).toContain('  Phase:       Progressing\n  Step:        1/2\n  Weights:     v1 (stable) 70%   v2 (canary) 30%\n');
    expect(stdout).toMatch(/ {2}Message: {5}Step 1\/2: 30% of traffic to v2 for 10m; next step after /);
    expect(stdout).toMatch(/Conditions:\n {2}TYPE +STATUS +REASON +AGE +MESSAGE\n/);
    expect(stdout).toMatch(/ {2}SpecValid +True +SpecValid /);
    expect(stdout).toMatch(/ {2}Progressing +True +StepInProgress /);
    const events = stdout.slice(stdout.indexOf('Events:'));
    expect(events).toMatch(/Normal +Started +Release v1 -> v2 started/);
    expect(events.indexOf('Started')).toBeLessThan(events.indexOf('WaitingForCanary'));
    expect(events.indexOf('WaitingForCanary')).toBeLessThan(events.indexOf('StepAdvanced'));
  }, 60_000);

  it('is discovered by kubectl on PATH and runs as `kubectl canary`', async () => {
    const ns = await releaseAtStep1('plugin-kubectl', [{ weight: 40, duration: '10m' }, { weight: 100 }]);
    accessSync(PLUGIN, constants.X_OK);
    const listed = await kubectlWithPlugin(['plugin', 'list']);
    expect(listed.stdout).toContain(PLUGIN);

    const status = await kubectlWithPlugin(['canary', 'status', 'reviews', '-n', ns, '--kubeconfig', kubeconfigPath()]);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('  Weights:     v1 (stable) 60%   v2 (canary) 40%');

    // Without --kubeconfig the plugin reads $KUBECONFIG, as kubectl does.
    const list = await kubectlWithPlugin(['canary', 'list', '-n', ns], { KUBECONFIG: kubeconfigPath() });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME +PHASE +STEP +WEIGHT +STABLE +CANARY +GATES +AGE +MESSAGE\nreviews +Progressing +1\/2 +40% +v1 +v2 +- /);

    const help = await kubectlWithPlugin(['canary', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('kubectl canary status NAME');
  }, 60_000);

  it('pause freezes the weights with spec.paused and resume lets the release finish', async () => {
    const ns = await releaseAtStep1('plugin-pause', [{ weight: 20, duration: '3s' }, { weight: 100 }]);
    const paused = await canary('pause', 'reviews', '-n', ns);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toBe(`canaryrelease ${ns}/reviews: paused (spec.paused set to true): the weights stay where they are\n`);
    expect(paused.stderr).toContain('the value in git wins');
    expect((await c.release(ns))?.spec.paused).toBe(true);
    await waitForRelease(c, ns, 'Paused', (r) => r.status?.phase === 'Paused');
    await new Promise((res) => setTimeout(res, 4000));
    expect(await c.settled(ns, { v1: 80, v2: 20 })).toEqual({ v1: 80, v2: 20 });
    expect((await canary('status', 'reviews', '-n', ns)).stdout).toContain('  Paused:      by spec.paused since ');

    const resumed = await canary('resume', 'reviews', '-n', ns);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe(`canaryrelease ${ns}/reviews: resumed (spec.paused set to false)\n`);
    const done = await canary('wait', 'reviews', '-n', ns, '--timeout', '30s');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`^canaryrelease ${ns}/reviews Succeeded: Promoted: 100% of traffic to v2.*\\n$`));
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
    expect((await c.eventsWith(ns, ['Paused', 'Resumed'])).map((e) => e.reason)).toEqual(expect.arrayContaining(['Paused', 'Resumed']));
  }, 60_000);

  it('promote sends all traffic to the canary, and wait exits 0 with the reason', async () => {
    const ns = await releaseAtStep1('plugin-promote', [{ weight: 10, duration: '10m' }, { weight: 100 }]);
    const waiting = canary('wait', 'reviews', '-n', ns, '--timeout', '60s');
    await new Promise((res) => setTimeout(res, 1500));
    const promoted = await canary('promote', 'reviews', '-n', ns);
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toMatch(/: promote requested: all traffic goes to the canary \(canary-operator\.dev\/promote=\d{4}-\d\d-\d\dT[\d:.]+Z-[0-9a-f]{8}\)\n$/);
    const waited = await waiting;
    expect(waited.code).toBe(0);
    expect(waited.stdout).toMatch(new RegExp(`^canaryrelease ${ns}/reviews Succeeded: Promoted on request: 100% of traffic to v2.*\\n$`));
    const r = await c.release(ns);
    expect(condition(r!, 'Promoted')?.reason).toBe('ManualPromotion');
    const value = r?.metadata.annotations?.['canary-operator.dev/promote'];
    expect((r?.status?.handledRequests as Record<string, string>).promote).toBe(value);
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
  }, 60_000);

  it('abort rolls back and wait exits 1; retry runs the release again; wait times out with 2', async () => {
    const ns = await releaseAtStep1('plugin-abort', [{ weight: 30, duration: '10m' }, { weight: 100 }]);
    const waiting = canary('wait', 'reviews', '-n', ns, '--timeout', '60s');
    await new Promise((res) => setTimeout(res, 1500));
    const aborted = await canary('abort', 'reviews', '-n', ns);
    expect(aborted.code).toBe(0);
    expect(aborted.stdout).toContain('abort requested: all traffic goes back to stable');
    const waited = await waiting;
    expect(waited.code).toBe(1);
    expect(waited.stdout).toMatch(new RegExp(`^canaryrelease ${ns}/reviews RolledBack: Aborted on request at 30%.*\\n$`));
    expect(await c.settled(ns, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });

    // Right after the retry request, the old RolledBack must not count as the outcome.
    const retried = await canary('retry', 'reviews', '-n', ns);
    expect(retried).toMatchObject({ code: 0, stderr: '' });
    const timedOut = await canary('wait', 'reviews', '-n', ns, '--timeout', '3s');
    expect(timedOut.code).toBe(2);
    expect(timedOut.stderr).toMatch(new RegExp(`^timed out after 3s waiting for canaryrelease ${ns}/reviews to end; canaryrelease ${ns}/reviews is (Pending|Progressing|RolledBack \\(the retry request is not handled)`));
    await waitForRelease(c, ns, 'step 1 again', (r) => r.status?.phase === 'Progressing' && r.status?.currentStep === 1);
    await waitFor('30% again', async () => (await c.weights(ns)).v2 === 30);
    expect((await c.eventsWith(ns, ['Aborted', 'Retried'])).map((e) => e.reason)).toEqual(expect.arrayContaining(['Aborted', 'Retried']));
  }, 60_000);

  it('watch --plain prints each change and each Event until the release ends', async () => {
    const ns = await c.namespace('plugin-watch');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec([{ weight: 50, duration: '2s' }, { weight: 100 }]));
    const { code, stdout } = await canary('watch', 'reviews', '-n', ns, '--plain');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^canaryrelease ${ns}/reviews Succeeded: Promoted: 100% of traffic to v2`));
    expect(lines.some((l) => /Succeeded +step 2\/2 +v1=0% v2=100%/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('event Normal Promoted:'))).toBe(true);
    expect(new Set(lines).size).toBe(lines.length);
  }, 60_000);

  it('list shows the releases of a namespace, and of every namespace with -A', async () => {
    const ns = await c.namespace('plugin-list');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec([{ weight: 25, duration: '10m' }, { weight: 100 }]));
    await c.createRelease(ns, spec([{ weight: 25, duration: '10m' }, { weight: 100 }]), 'another');
    await waitForRelease(c, ns, 'reviews at step 1', (r) => r.status?.currentStep === 1);
    await waitForRelease(c, ns, 'another has a status', (r) => r.status?.phase !== undefined, 30_000, 'another');
    const one = await canary('list', '-n', ns);
    expect(one.code).toBe(0);
    const rows = one.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NAME +PHASE +STEP +WEIGHT +STABLE +CANARY +GATES +AGE +MESSAGE$/);
    expect(rows.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['another', 'reviews']);
    expect(rows[2]).toMatch(/^reviews +Progressing +1\/2 +25% +v1 +v2 +- +\S+ +Step 1\/2/);

    const all = await canary('list', '-A');
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^NAMESPACE +NAME +PHASE/);
    expect(all.stdout).toMatch(new RegExp(`\\n${ns} +another +`));
    expect(all.stdout).toMatch(new RegExp(`\\n${ns} +reviews +Progressing +1/2 +25%`));

    const empty = await canary('list', '-n', await c.namespace('plugin-empty'));
    expect(empty.code).toBe(0);
    expect(empty.stderr).toMatch(/^No canaryreleases found in namespace plugin-empty-/);
  }, 60_000);

  it('names the release and namespace when the release does not exist, and exits 2', async () => {
    const ns = await c.namespace('plugin-missing');
    for (const args of [['status', 'nope'], ['promote', 'nope'], ['pause', 'nope'], ['wait', 'nope', '--timeout', '5s']]) {
      const r = await canary(...args, '-n', ns);
      expect(r).toEqual({ code: 2, stdout: '', stderr: `error: canaryrelease nope not found in namespace ${ns}\n` });
    }
    const usage = await canary('status');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('status needs the name of a CanaryRelease');
  }, 60_000);
});
