#!/usr/bin/env node
// The live demo: bookinfo's reviews service released on a local control plane
// with the mesh simulator and Prometheus. On an Istio VirtualService, v1 -> v2
// is healthy and gets promoted, then v2 -> v3 answers 20% of requests with
// 503 and is rolled back by its error-rate gate; on a Gateway API HTTPRoute
// (its own namespace), v1 -> v2 is promoted the same way. Flags: --plain (one
// line per change), --keep (leave everything running until Ctrl-C).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, loadAllYaml, setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { startStack } from './stack.js';
import { LiveView, type GateView } from './view.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const NS = process.env.DEMO_NAMESPACE ?? 'bookinfo';
/** The Gateway API (GAMMA) copy of reviews: same versions, an HTTPRoute instead of a VirtualService. */
const GAMMA_NS = `${NS}-gamma`;
const args = new Set(process.argv.slice(2));
const keep = args.has('--keep');
const plain = args.has('--plain') || !process.stdout.isTTY;
/** Demo steps hold seconds, not minutes; analysis rounds every 2s over an 8s window, which fits in a step (a step advances only on a round measured entirely at its weight). */
const STEP_SECONDS = Number(process.env.DEMO_STEP_SECONDS ?? 10);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Status {
  phase?: string; currentStep?: number; totalSteps?: number; canarySubset?: string; stableSubset?: string; message?: string;
  analysis?: { gates?: GateView[] };
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const view = new LiveView(!plain);
  const say = (line: string) => view.note(`[demo ${Math.round((Date.now() - t0) / 1000)}s] ${line}`);
  const stack = await startStack({ root: ROOT, namespaces: [NS, GAMMA_NS], say, prometheusUrl: process.env.DEMO_PROMETHEUS_ADDRESS });
  const kc = new KubeConfig();
  kc.loadFromFile(stack.controlPlane.kubeconfigPath);
  view.note(`\nkubeconfig: ${stack.controlPlane.kubeconfigPath}\n  watch along in another terminal:  KUBECONFIG=${stack.controlPlane.kubeconfigPath} kubectl get canaryreleases -A -w\n`);

  let code = 1;
  try {
    await setUp(kc, say);
    const results: string[] = [];
    view.note('Release 1: reviews v1 -> v2 (healthy), gated on error rate <= 5% and p99 <= 500ms');
    await applyRelease(kc, NS, 'bookinfo-reviews', '10-release-v2.yaml');
    results.push(`release 1 (v1 -> v2): ${await follow(kc, view, ISTIO_ROUTE, 'v2', 'Succeeded')}`);
    if (!results[0]?.includes('as expected')) throw new Error(`release 1 did not succeed (${results[0]}); see the Events above and the operator log`);

    view.note('\nRelease 2: reviews v2 -> v3, started from git by changing the subsets; v3 answers 20% of requests with 503');
    await applyRelease(kc, NS, 'bookinfo-reviews', '11-release-v3.yaml');
    results.push(`release 2 (v2 -> v3): ${await follow(kc, view, ISTIO_ROUTE, 'v3', 'RolledBack')}`);

    view.note(`\nRelease 3: reviews v1 -> v2 on a Gateway API HTTPRoute (namespace ${GAMMA_NS}), versions as backend Services`);
    await applyRelease(kc, GAMMA_NS, 'gateway-api-reviews', '10-release-v2.yaml');
    results.push(`release 3 (HTTPRoute, reviews-v1 -> reviews-v2): ${await follow(kc, view, GAMMA_ROUTE, 'reviews-v2', 'Succeeded')}`);

    view.note('\nSummary');
    for (const r of results) view.note(`  ${r}`);
    for (const route of (await virtualService(kc)).spec.http) {
      view.note(`  VirtualService route ${route.name}: ${route.route.map((d) => `${d.destination.subset}=${d.weight ?? 100}%`).join(', ')}`);
    }
    for (const [i, rule] of (await httpRoute(kc)).spec.rules.entries()) {
      view.note(`  HTTPRoute rule #${i}: ${rule.backendRefs.map((b) => `${b.name}=${b.weight ?? 1}`).join(', ')}`);
    }
    view.note(`  the jason header route and rule were never touched; finished in ${Math.round((Date.now() - t0) / 1000)}s`);
    code = results.every((r) => r.includes('as expected')) ? 0 : 1;
    if (keep) {
      view.note(`\n--keep: everything stays up. KUBECONFIG=${stack.controlPlane.kubeconfigPath}  Prometheus: ${stack.prometheusUrl}\nCtrl-C to stop.`);
      await new Promise((r) => {
        process.once('SIGINT', r);
        process.once('SIGTERM', r);
      });
    }
  } finally {
    await stack.stop();
    view.note(stack.controlPlane.external
      ? `stopped the operator, the simulator and Prometheus; the existing cluster keeps namespaces ${NS} and ${GAMMA_NS}`
      : 'stopped the operator, the simulator, Prometheus and the control plane');
  }
  return code;
}

async function examples(dir: string, file: string): Promise<KubernetesObject[]> {
  return loadAllYaml(await readFile(join(ROOT, 'examples', dir, file), 'utf8')) as KubernetesObject[];
}

async function setUp(kc: KubeConfig, say: (l: string) => void): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const apply = async (namespace: string, docs: KubernetesObject[], versions: string[]) => {
    await core.createNamespace({ body: { metadata: { name: namespace } } }).catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
    for (const doc of docs) {
      // A second run on an existing cluster finds them already there.
      await objects.create({ ...doc, metadata: { ...doc.metadata, namespace } }).catch((err: { code?: number }) => {
        if (err.code !== 409) throw err;
      });
    }
    // No kubelet runs on the local control plane, so the demo reports the Deployments available itself.
    for (const v of versions) {
      await apps.patchNamespacedDeploymentStatus(
        { namespace, name: `reviews-${v}`, body: { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 } } }, mergePatch);
    }
  };
  await apply(NS, [
    ...(await examples('bookinfo-reviews', '00-service.yaml')), ...(await examples('bookinfo-reviews', '01-deployments.yaml')),
    ...(await examples('bookinfo-reviews', '02-destinationrule.yaml')), ...(await examples('bookinfo-reviews', '03-virtualservice.yaml')),
    ...(await examples('demo', 'simulator-behaviour.yaml')),
  ], ['v1', 'v2', 'v3']);
  say(`applied examples/bookinfo-reviews to namespace ${NS}: Service, Deployments v1..v3, DestinationRule, VirtualService (100% v1; jason -> v2)`);
  await apply(GAMMA_NS, [
    ...(await examples('gateway-api-reviews', '00-services.yaml')), ...(await examples('gateway-api-reviews', '01-deployments.yaml')),
    ...(await examples('gateway-api-reviews', '02-httproute.yaml')),
  ], ['v1', 'v2']);
  say(`applied examples/gateway-api-reviews to namespace ${GAMMA_NS}: Services reviews, reviews-v1, reviews-v2, Deployments v1, v2, HTTPRoute (all to reviews-v1; jason -> reviews-v2)`);
}

/** Applies a release manifest with the demo's short durations (create, or update the spec of the existing one). */
async function applyRelease(kc: KubeConfig, namespace: string, dir: string, file: string): Promise<void> {
  const [doc] = (await examples(dir, file)) as (KubernetesObject & { spec: { steps: { duration?: string }[]; analysis: Record<string, unknown> } })[];
  if (!doc) throw new Error(`${file} is empty`);
  for (const s of doc.spec.steps) if (s.duration) s.duration = `${STEP_SECONDS}s`;
  Object.assign(doc.spec.analysis, { interval: '2s', window: '8s', minRequests: 20 });
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ids = { group: 'canary-operator.dev', version: 'v1alpha1', namespace, plural: 'canaryreleases' };
  try {
    await custom.patchNamespacedCustomObject({ ...ids, name: doc.metadata?.name ?? 'reviews', body: { spec: doc.spec } }, mergePatch);
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await custom.createNamespacedCustomObject({ ...ids, body: { ...doc, metadata: { ...doc.metadata, namespace } } });
  }
}

async function virtualService(kc: KubeConfig) {
  return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: NS, plural: 'virtualservices', name: 'reviews' })) as {
    spec: { http: { name?: string; route: { destination: { subset?: string }; weight?: number }[] }[] };
  };
}

async function httpRoute(kc: KubeConfig) {
  return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: GAMMA_NS, plural: 'httproutes', name: 'reviews' })) as {
    spec: { rules: { matches?: unknown[]; backendRefs: { name: string; weight?: number }[] }[] };
  };
}

/** Where a demo release lives, and how to read the weights of its managed route. */
interface DemoRoute {
  namespace: string;
  weights(kc: KubeConfig): Promise<Record<string, number>>;
}
const ISTIO_ROUTE: DemoRoute = {
  namespace: NS,
  weights: async (kc) => {
    const primary = (await virtualService(kc)).spec.http.find((h) => h.name === 'primary');
    return Object.fromEntries((primary?.route ?? []).map((d) => [d.destination.subset ?? '?', d.weight ?? 100]));
  },
};
const GAMMA_ROUTE: DemoRoute = {
  namespace: GAMMA_NS,
  weights: async (kc) => {
    const rules = (await httpRoute(kc)).spec.rules;
    const rule = rules.find((r) => !r.matches?.some((m) => 'headers' in (m as object))) ?? rules.at(-1);
    const refs = rule?.backendRefs ?? [];
    const total = refs.reduce((t, b) => t + (b.weight ?? 1), 0) || 1;
    return Object.fromEntries(refs.map((b) => [b.name, Math.round(((b.weight ?? 1) * 100) / total)]));
  },
};

/** Events already shown, by name, so the next release shows only its own. */
const shownEvents = new Set<string>();

/** Shows the release for `canary` until it ends; says whether it ended as expected. */
async function follow(kc: KubeConfig, view: LiveView, route: DemoRoute, canary: string, expected: string): Promise<string> {
  const ns = route.namespace;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const seen: string[] = [];
  const started = Date.now();
  for (;;) {
    const r = (await custom.getNamespacedCustomObject({ group: 'canary-operator.dev', version: 'v1alpha1', namespace: ns, plural: 'canaryreleases', name: 'reviews' })) as { status?: Status };
    const st = r.status ?? {};
    const weights = await route.weights(kc);
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=reviews' });
    for (const e of events.items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
      const id = e.metadata?.name ?? '';
      if (shownEvents.has(id)) continue;
      shownEvents.add(id);
      seen.push(`${e.type === 'Warning' ? '!' : ' '} ${e.reason}: ${e.message}`);
    }
    const current = st.canarySubset === canary;
    view.update({
      title: `CanaryRelease ${ns}/reviews (${st.stableSubset ?? '?'} -> ${canary})`,
      phase: current ? (st.phase ?? '-') : 'Pending',
      step: `${current ? (st.currentStep ?? 0) : 0}/${st.totalSteps ?? '?'}`,
      weights,
      gates: current ? (st.analysis?.gates ?? []) : [],
      message: current ? (st.message ?? '') : 'waiting for the operator to start the release',
      events: seen,
    });
    if (current && ['Succeeded', 'RolledBack', 'Failed'].includes(st.phase ?? '')) {
      view.freeze();
      return `${st.phase} (${st.phase === expected ? 'as expected' : `expected ${expected}`}) after ${Math.round((Date.now() - started) / 1000)}s`;
    }
    if (Date.now() - started > 120_000) return `timed out in phase ${st.phase}`;
    await new Promise((res) => setTimeout(res, plain ? 1000 : 500));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
