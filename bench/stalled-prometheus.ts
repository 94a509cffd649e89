// No tenant can stall the others, measured: four releases point at a
// Prometheus that answers the preflight and then never answers a gate query
// (each hangs for the 60s timeout); meanwhile releases with a failing canary
// on a healthy Prometheus are judged. Prints, for each, the time from its
// failing round (status.analysis.evaluatedAt) to its traffic back on stable.
//   npm run build && node dist/bench/stalled-prometheus.js [trials]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from '../test/harness/control-plane.js';
import { operatorEntrypoint } from '../test/harness/project-root.js';
import { startHangingPrometheus } from '../test/harness/hanging-prometheus.js';
import { Cluster, waitFor } from '../test/e2e/support/cluster.js';
import { behave, startMesh } from '../test/e2e/support/mesh.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const TRIALS = Number(process.argv[2] ?? 5);
const INTERVAL_S = 2;

const cp = await startControlPlane({ log: () => undefined });
process.env.CANARY_E2E_KUBECONFIG = cp.kubeconfigPath;
const c = new Cluster();
const release = (address?: string) => ({
  service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' }, canary: { subset: 'v2' }, steps: [{ weight: 20, duration: '10m' }, { weight: 100 }],
  analysis: {
    interval: `${INTERVAL_S}s`, window: '4s', minRequests: 1, failureLimit: 1, gates: [{ name: 'errors', errorRate: { max: '5%' } }],
    ...(address ? { prometheus: { address, timeout: '60s' } } : {}),
  },
});

const stuck: string[] = [];
const bad: string[] = [];
for (let i = 0; i < 4; i++) stuck.push(await c.namespace(`stuck-${i}`));
for (let i = 0; i < TRIALS; i++) bad.push(await c.namespace(`bad-${i}`));
for (const ns of [...stuck, ...bad]) await c.bookinfo(ns);
const mesh = await startMesh([...stuck, ...bad].map((namespace) => ({ namespace })));
const dead = await startHangingPrometheus();
const op = spawn(process.execPath, [operatorEntrypoint(ROOT)], {
  env: {
    ...process.env, KUBECONFIG: cp.kubeconfigPath, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn',
    PROMETHEUS_ADDRESS: mesh.prometheus.url, PROMETHEUS_ALLOWED_ADDRESSES: `${mesh.prometheus.url},${dead.url}`,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});

try {
  for (const ns of stuck) await c.createRelease(ns, release(dead.url));
  await waitFor('gate queries hanging on the dead Prometheus', async () => dead.hanging >= 1, 60_000);
  const figures: number[] = [];
  for (const ns of bad) {
    await behave(c, ns, 'v2', { errorRate: 0.6 });
    await c.createRelease(ns, release());
    const back = await waitFor(`${ns} back on stable`, async () => (await c.release(ns))?.status?.phase === 'RolledBack' && (await c.weights(ns)).v1 === 100 && Date.now(), 120_000, 50);
    const failing = Date.parse(((await c.release(ns))?.status?.analysis as { evaluatedAt: string }).evaluatedAt);
    figures.push((back - failing) / 1000);
    process.stdout.write(`  ${ns}: traffic back on stable ${((back - failing) / 1000).toFixed(2)}s after its failing round\n`);
  }
  const max = Math.max(...figures);
  process.stdout.write(`\nwith 4 releases stuck on a Prometheus that never answers (${dead.hanging} gate queries left hanging):\n`);
  process.stdout.write(`  rollback after the failing round: median ${figures.sort((a, b) => a - b)[Math.floor(figures.length / 2)]?.toFixed(2)}s, max ${max.toFixed(2)}s (goal: within one interval, ${INTERVAL_S}s): ${max <= INTERVAL_S ? 'met' : 'NOT met'}\n`);
} finally {
  op.kill('SIGTERM');
  await dead.stop();
  await mesh.stop();
  await cp.stop();
}
