#!/usr/bin/env node
// The live demo: a local control plane, the operator, and bookinfo's reviews
// service released twice (v1 -> v2 promoted; v2 -> v3 aborted by a person).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, loadAllYaml, setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { startControlPlane } from '../../test/harness/control-plane.js';
import { LiveView } from './view.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const NS = 'bookinfo';
const args = new Set(process.argv.slice(2));
const keep = args.has('--keep');
const plain = args.has('--plain') || !process.stdout.isTTY;
/** Demo steps hold seconds, not minutes. */
const STEP_SECONDS = Number(process.env.DEMO_STEP_SECONDS ?? 4);

async function main(): Promise<number> {
  const t0 = Date.now();
  const view = new LiveView(!plain);
  view.note('canary-operator demo: starting a local kube-apiserver + etcd (the first run builds them from Go modules, which takes a while)');
  const cp = await startControlPlane({ log: (l) => process.stderr.write(`[control-plane] ${l}\n`) });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  view.note(`kubeconfig: ${cp.kubeconfigPath}\n  watch along in another terminal: KUBECONFIG=${cp.kubeconfigPath} kubectl get canaryreleases -A -w`);

  const logPath = join(cp.workDir, 'operator.log');
  const operator = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
    env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = createWriteStream(logPath);
  operator.stdout.pipe(logFile);
  operator.stderr.pipe(logFile);
  view.note(`operator started (pid ${operator.pid}); JSON logs in ${logPath}`);

  const stopAll = async () => {
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
    await cp.stop();
  };
  try {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const objects = kc.makeApiClient(KubernetesObjectApi);
    for (const file of ['00-service.yaml', '01-deployments.yaml', '02-destinationrule.yaml', '03-virtualservice.yaml']) {
      for (const doc of await examples(file)) await objects.create({ ...doc, metadata: { ...doc.metadata, namespace: NS } });
    }
    await markAvailable(kc, ['reviews-v1', 'reviews-v2', 'reviews-v3']);
    view.note('applied examples/bookinfo-reviews: Service, Deployments v1..v3, DestinationRule, VirtualService (100% v1, jason -> v2)\n');

    const results: string[] = [];
    view.note('Release 1: v1 -> v2');
    await applyRelease(kc, '10-release-v2.yaml');
    results.push(`release 1 (v1 -> v2): ${await follow(kc, view, () => undefined)}`);

    view.note('\nRelease 2: v2 -> v3 (changed from git: stable v2, canary v3); a person aborts it at the first step');
    await applyRelease(kc, '11-release-v3.yaml');
    results.push(`release 2 (v2 -> v3): ${await follow(kc, view, async (status) => {
      if (status.phase === 'Progressing' && status.currentStep === 1 && status.canarySubset === 'v3') {
        await annotate(kc, 'canary-operator.dev/abort', 'demo');
      }
    })}`);

    const vs = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: NS, plural: 'virtualservices', name: 'reviews' })) as { spec: { http: { name?: string; route: { destination: { subset?: string }; weight?: number }[] }[] } };
    view.note('\nSummary');
    for (const r of results) view.note(`  ${r}`);
    for (const route of vs.spec.http) {
      view.note(`  route ${route.name}: ${route.route.map((d) => `${d.destination.subset}=${d.weight ?? 100}%`).join(', ')}`);
    }
    view.note(`  finished in ${Math.round((Date.now() - t0) / 1000)}s`);
    if (keep) {
      view.note(`\n--keep: everything stays up; KUBECONFIG=${cp.kubeconfigPath}. Ctrl-C to stop.`);
      await new Promise((r) => { process.once('SIGINT', r); process.once('SIGTERM', r); });
    }
    return results.every((r) => r.includes('expected')) ? 0 : 1;
  } finally {
    await stopAll();
    view.note('stopped the operator and the control plane');
  }

  async function examples(file: string): Promise<KubernetesObject[]> {
    return loadAllYaml(await readFile(join(ROOT, 'examples', 'bookinfo-reviews', file), 'utf8')) as KubernetesObject[];
  }

  async function applyRelease(k: KubeConfig, file: string): Promise<void> {
    const [doc] = (await examples(file)) as (KubernetesObject & { spec: { steps: { duration?: string }[] } })[];
    if (!doc) throw new Error(`${file} is empty`);
    for (const s of doc.spec.steps) if (s.duration) s.duration = `${STEP_SECONDS}s`;
    const api = k.makeApiClient(KubernetesObjectApi);
    const body = { ...doc, metadata: { ...doc.metadata, namespace: NS } };
    try {
      const live = await api.read({ apiVersion: doc.apiVersion, kind: doc.kind, metadata: { name: doc.metadata?.name ?? '', namespace: NS } });
      await api.patch({ ...body, metadata: { ...body.metadata, resourceVersion: live.metadata?.resourceVersion } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      await api.create(body);
    }
  }
}

interface Status { phase?: string; currentStep?: number; totalSteps?: number; canarySubset?: string; stableSubset?: string; message?: string }

/** Shows the release until it ends; returns how it ended. */
async function follow(kc: KubeConfig, view: LiveView, act: (s: Status) => Promise<void> | void): Promise<string> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const seenEvents: string[] = [];
  const started = Date.now();
  for (;;) {
    const r = (await custom.getNamespacedCustomObject({ group: 'canary-operator.dev', version: 'v1alpha1', namespace: NS, plural: 'canaryreleases', name: 'reviews' })) as { status?: Status; metadata: { generation: number }; spec: { canary: { subset: string } } };
    const st = r.status ?? {};
    const vs = (await custom.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: NS, plural: 'virtualservices', name: 'reviews' })) as { spec: { http: { name?: string; route: { destination: { subset?: string }; weight?: number }[] }[] } };
    const primary = vs.spec.http.find((h) => h.name === 'primary');
    const weights = Object.fromEntries((primary?.route ?? []).map((d) => [d.destination.subset ?? '?', d.weight ?? 100]));
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=reviews' });
    for (const e of events.items.sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp)))) {
      const line = `${e.type === 'Warning' ? '!' : ' '} ${e.reason}: ${e.message}`;
      if (!seenEvents.includes(line)) seenEvents.push(line);
    }
    const current = st.canarySubset === r.spec.canary.subset;
    view.update({ release: `${NS}/reviews`, phase: st.phase ?? '-', step: `${st.currentStep ?? 0}/${st.totalSteps ?? '?'}`, weights, message: st.message ?? '', events: seenEvents });
    if (current) await act(st);
    if (current && ['Succeeded', 'RolledBack', 'Failed'].includes(st.phase ?? '')) {
      view.freeze();
      const expected = st.canarySubset === 'v2' ? 'Succeeded' : 'RolledBack';
      return `${st.phase} (${st.phase === expected ? 'as expected' : `expected ${expected}`})`;
    }
    if (Date.now() - started > 120_000) return `timed out in phase ${st.phase}`;
    await new Promise((res) => setTimeout(res, 500));
  }
}

async function annotate(kc: KubeConfig, key: string, value: string): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    { group: 'canary-operator.dev', version: 'v1alpha1', namespace: NS, plural: 'canaryreleases', name: 'reviews', body: { metadata: { annotations: { [key]: value } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** No kubelet runs on the local control plane, so the demo reports the Deployments available itself. */
async function markAvailable(kc: KubeConfig, names: string[]): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  for (const name of names) {
    await apps.patchNamespacedDeploymentStatus(
      { namespace: NS, name, body: { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
