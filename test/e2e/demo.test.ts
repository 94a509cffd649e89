// The demo, headless: the same code path as `npm run demo`, in its plain-output mode.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

describe('npm run demo', () => {
  it('promotes release 1 (v1 -> v2), rolls back release 2 (v2 -> v3, 20% 5xx), promotes release 3 on an HTTPRoute, then stops everything', async () => {
    // Its own control plane, not the suite's: the demo must work on its own.
    const env = { ...process.env };
    delete env.CANARY_TEST_KUBECONFIG;
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'tools', 'demo', 'main.js'), '--plain'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) process.stderr.write(out);
    expect(code).toBe(0);
    expect(out).toMatch(/release 1 \(v1 -> v2\): Succeeded \(as expected\)/);
    expect(out).toMatch(/release 2 \(v2 -> v3\): RolledBack \(as expected\)/);
    expect(out).toMatch(/AnalysisFailed: error rate [0-9.]+% > 5%/);
    expect(out).toMatch(/release 3 \(HTTPRoute, reviews-v1 -> reviews-v2\): Succeeded \(as expected\)/);
    expect(out).toContain('VirtualService route jason: v2=100%');
    expect(out).toContain('VirtualService route primary: v1=0%, v2=100%, v3=0%');
    expect(out).toContain('HTTPRoute rule #0: reviews-v2=1');
    expect(out).toContain('HTTPRoute rule #1: reviews-v1=0, reviews-v2=100');
    expect(out).toContain('kubeconfig: ');
    expect(out).toContain('stopped the operator, the simulator, Prometheus and the control plane');
  }, 240_000);
});
