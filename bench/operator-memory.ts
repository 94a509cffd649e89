// The operator's memory after start and after 50 completed releases, read
// from its own /metrics (process_resident_memory_bytes, nodejs heap) while it
// runs against a local control plane, as the image runs it (its ENTRYPOINT's
// node flags and script, its NODE_OPTIONS, MALLOC_ARENA_MAX, NODE_ENV).
// Prints the figures.
//   npm run build && node dist/bench/operator-memory.js [releases]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startControlPlane } from '../test/harness/control-plane.js';
import { projectImageNodeFlags, projectImageNodeScript, projectImageRuntimeEnv } from './scale/image-runtime.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const N = Number(process.argv[2] ?? 50);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const cp = await startControlPlane({ log: () => undefined });
const kc = new KubeConfig();
kc.loadFromFile(cp.kubeconfigPath);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);

const op = spawn(process.execPath, [...projectImageNodeFlags(ROOT), projectImageNodeScript(ROOT)], {
  env: { ...process.env, ...projectImageRuntimeEnv(ROOT), KUBECONFIG: cp.kubeconfigPath, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let port = 0;
op.stdout.on('data', (d: Buffer) => {
  for (const line of d.toString().split('\n')) {
    try {
      const rec = JSON.parse(line) as { port?: number };
      if (rec.port && !port) port = rec.port;
    } catch { /* not JSON */ }
  }
});

async function memory(): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string) => Number(text.match(new RegExp(`^${name} ([0-9.e+]+)$`, 'm'))?.[1] ?? NaN) / 2 ** 20;
  return { rss: value('canary_operator_process_resident_memory_bytes'), heap: value('canary_operator_nodejs_heap_size_used_bytes') };
}
const mb = (m: { rss: number; heap: number }) => `RSS ${m.rss.toFixed(1)} MiB, heap used ${m.heap.toFixed(1)} MiB`;

try {
  while (!port) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 3000));
  process.stdout.write(`after start: ${mb(await memory())}\n`);
  const started = Date.now();
  for (let i = 0; i < N; i++) {
    const ns = `bench-${i}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'reviews' }, spec: { selector: { app: 'reviews' }, ports: [{ port: 9080 }] } } });
    for (const v of ['v1', 'v2']) {
      const labels = { app: 'reviews', version: v };
      await apps.createNamespacedDeployment({ namespace: ns, body: { metadata: { name: `reviews-${v}` }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'r', image: 'reviews' }] } } } } });
      await apps.patchNamespacedDeploymentStatus({ namespace: ns, name: `reviews-${v}`, body: { status: { availableReplicas: 1, readyReplicas: 1, replicas: 1 } } }, merge);
    }
    await custom.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: ns, plural: 'destinationrules', body: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews' }, spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } } });
    await custom.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: ns, plural: 'virtualservices', body: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews' }, spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] } } });
    await custom.createNamespacedCustomObject({ group: 'canary-operator.dev', version: 'v1alpha1', namespace: ns, plural: 'canaryreleases', body: { apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease', metadata: { name: 'reviews' }, spec: { service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' }, stable: { subset: 'v1' }, canary: { subset: 'v2' }, stepWeight: 50, stepDuration: '1s' } } });
  }
  for (;;) {
    const list = (await custom.listClusterCustomObject({ group: 'canary-operator.dev', version: 'v1alpha1', plural: 'canaryreleases' })) as { items: { status?: { phase?: string } }[] };
    const done = list.items.filter((r) => r.status?.phase === 'Succeeded').length;
    if (done === N) break;
    if (Date.now() - started > 300_000) throw new Error(`only ${done}/${N} releases succeeded after 5 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stdout.write(`${N} releases Succeeded in ${((Date.now() - started) / 1000).toFixed(1)}s (created one after another, 2 steps of 1s each)\n`);
  await new Promise((r) => setTimeout(r, 3000));
  process.stdout.write(`after ${N} completed releases: ${mb(await memory())}\n`);
} finally {
  op.kill('SIGTERM');
  await new Promise((r) => op.once('exit', r));
  await cp.stop();
}
