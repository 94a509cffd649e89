// The mesh simulator against the e2e control plane, scraped by a real
// Prometheus: the Istio queries the operator relies on see the VirtualService
// split and the configured failures, and follow weight changes; a GAMMA
// HTTPRoute's split by backend Service, with the route status a mesh
// controller writes; ambient namespaces reported by their waypoint, or with
// no L7 metric at all without one.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startPrometheus, type RunningPrometheus } from '../harness/prometheus.js';
import { queryByLabel, queryPrometheus } from '../harness/prometheus-query.js';
import { ANNOTATIONS } from '../../tools/mesh-simulator/behaviour.js';
import { startSimulator, type RunningSimulator } from '../../tools/mesh-simulator/simulator.js';
import { bookinfoVirtualServiceSpec, Cluster, kubeconfigPath } from './support/cluster.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const SIMULATOR_ENTRY = join(ROOT, 'dist', 'tools', 'mesh-simulator', 'main.js');

const c = new Cluster();
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const f of cleanups.reverse()) await f().catch(() => undefined);
});

interface SimulatorProcess {
  port: number;
  child: ChildProcess;
  logs: string[];
  stop(): Promise<number | null>;
}

/** Runs the built CLI; resolves with the port from its ready line. */
async function runSimulator(args: string[]): Promise<SimulatorProcess> {
  if (!existsSync(SIMULATOR_ENTRY)) throw new Error(`${SIMULATOR_ENTRY} is missing: run npm run build first`);
  const child = spawn(process.execPath, [SIMULATOR_ENTRY, ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfigPath() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => logs.push(...chunk.trimEnd().split('\n')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`simulator not ready after 30s:\n${logs.join('\n')}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited (${code}) before it was ready:\n${logs.join('\n')}`));
    });
  });
  return {
    port,
    child,
    logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `probe` every second until `ok` accepts its value; the error names the last thing seen. */
async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'nothing yet';
  for (;;) {
    try {
      const v = await probe();
      if (ok(v)) return v;
      last = v;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const share = (r: Record<string, number>, key: string) => (r[key] ?? 0) / Object.values(r).reduce((s, v) => s + v, 0);

async function bookinfoWithSplit(prefix: string, v1: number, v2: number): Promise<string> {
  const ns = await c.namespace(prefix);
  const spec = bookinfoVirtualServiceSpec();
  spec.http[1]!.route = [
    { destination: { host: 'reviews', subset: 'v1' }, weight: v1 },
    { destination: { host: 'reviews', subset: 'v2' }, weight: v2 },
  ];
  await c.bookinfo(ns, { versions: ['v1', 'v2'], virtualService: spec });
  cleanups.push(() => c.core.deleteNamespace({ name: ns }));
  return ns;
}

const GATEWAY_API = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };

interface RouteStatusCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration: number;
}
interface HttpRouteObject {
  metadata: { generation: number };
  status?: { parents?: { parentRef: Record<string, unknown>; controllerName: string; conditions: RouteStatusCondition[] }[] };
}

const backendRefs = (weights: Record<string, number>) => Object.entries(weights).map(([name, weight]) => ({ name, port: 9080, weight }));

/**
 * bookinfo reviews the GAMMA way: Service reviews, one Service and one
 * available Deployment per version, and an HTTPRoute on reviews splitting by
 * `weights` (backend Service -> weight). Namespace labels choose the data plane.
 */
async function gammaBookinfo(prefix: string, weights: Record<string, number>, namespaceLabels: Record<string, string> = {}): Promise<string> {
  const ns = await c.namespace(prefix);
  cleanups.push(() => c.core.deleteNamespace({ name: ns }));
  if (Object.keys(namespaceLabels).length > 0) {
    await c.core.patchNamespace({ name: ns, body: { metadata: { labels: namespaceLabels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }
  const ports = [{ name: 'http', port: 9080 }];
  await c.core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'reviews' }, spec: { selector: { app: 'reviews' }, ports } } });
  for (const v of ['v1', 'v2']) {
    await c.core.createNamespacedService({ namespace: ns, body: { metadata: { name: `reviews-${v}` }, spec: { selector: { app: 'reviews', version: v }, ports } } });
    await c.deployment(ns, v, true);
  }
  await c.custom.createNamespacedCustomObject({
    ...GATEWAY_API,
    namespace: ns,
    body: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'reviews' },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], rules: [{ backendRefs: backendRefs(weights) }] },
    },
  });
  return ns;
}

const readRoute = async (ns: string) => (await c.custom.getNamespacedCustomObject({ ...GATEWAY_API, namespace: ns, name: 'reviews' })) as HttpRouteObject;

const setRouteBackends = (ns: string, weights: Record<string, number>) =>
  c.custom.patchNamespacedCustomObject(
    { ...GATEWAY_API, namespace: ns, name: 'reviews', body: [{ op: 'replace', path: '/spec/rules/0/backendRefs', value: backendRefs(weights) }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );

/** The route's conditions from the simulated mesh controller, as [type, status, reason, observedGeneration]. */
const routeConditions = (route: HttpRouteObject) =>
  (route.status?.parents ?? [])
    .filter((p) => p.controllerName === 'istio.io/gateway-controller')
    .flatMap((p) => p.conditions.map((cond) => [cond.type, cond.status, cond.reason, cond.observedGeneration]));

const patchDeploymentAnnotations = (ns: string, name: string, annotations: Record<string, string>) =>
  c.apps.patchNamespacedDeployment({ namespace: ns, name, body: { metadata: { annotations } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

describe('mesh simulator scraped by Prometheus', () => {
  it('reports the VirtualService split and v2 failures through Istio queries, and follows weight changes', async () => {
    const ns = await bookinfoWithSplit('sim', 80, 20);
    // v2 fails half its requests (ConfigMap); v1 is slower at the tail (annotation).
    await c.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'mesh-simulator' }, data: { 'behaviour.json': JSON.stringify({ '*': { latencyMs: { p50: 20, p99: 200 } }, 'reviews.v2': { errorRate: 0.5 } }) } },
    });
    await patchDeploymentAnnotations(ns, 'reviews-v1', { [ANNOTATIONS.latencyP99]: '300' });

    const sim = await runSimulator(['--host', `${ns}/reviews:50`, '--port', '0', '--seed', '42']);
    cleanups.push(() => sim.stop());
    const prom: RunningPrometheus = await startPrometheus({ targets: [`127.0.0.1:${sim.port}`] });
    cleanups.push(() => prom.stop());

    const sel = `reporter="destination",destination_service_name="reviews",destination_service_namespace="${ns}"`;
    const started = Date.now();
    // Polled until the 30s window holds enough requests for the shares to mean something
    // (the first scrape comes ~5s after Prometheus starts) and they are where they should be.
    const { split, errorShare } = await eventually(
      'a 20/80 v2/v1 split and ~50% 5xx for v2',
      async () => ({
        requests: (await queryPrometheus(prom.url, `sum(increase(istio_requests_total{${sel}}[30s]))`))[0]?.value ?? 0,
        split: await queryByLabel(prom.url, `sum by (destination_version) (rate(istio_requests_total{${sel}}[30s]))`, 'destination_version'),
        errorShare: await queryByLabel(
          prom.url,
          `sum by (destination_version) (rate(istio_requests_total{${sel},response_code=~"5.."}[30s])) / sum by (destination_version) (rate(istio_requests_total{${sel}}[30s]))`,
          'destination_version',
        ),
      }),
      (r) => r.requests >= 300 && Math.abs(share(r.split, 'v2') - 0.2) < 0.04 && r.errorShare.v2 !== undefined && Math.abs(r.errorShare.v2 - 0.5) < 0.12,
      30_000,
    );
    const readyAfterMs = Date.now() - started;
    expect(Object.keys(split).sort()).toEqual(['v1', 'v2']);
    expect(errorShare.v1 ?? 0).toBe(0);

    const [p99] = await queryPrometheus(prom.url, `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${sel}}[30s])))`);
    expect(Number.isFinite(p99?.value)).toBe(true);
    expect(p99!.value).toBeGreaterThan(25);
    expect(p99!.value).toBeLessThan(2500);

    // The source sidecar reports the same requests: unfiltered sums would double count.
    const byReporter = await queryByLabel(prom.url, `sum by (reporter) (istio_requests_total{destination_service_namespace="${ns}"})`, 'reporter');
    expect(Object.keys(byReporter).sort()).toEqual(['destination', 'source']);

    // Move to 50/50: the simulator's plan follows at once, Prometheus within a short window.
    await c.patchVirtualService(ns, [
      { op: 'replace', path: '/spec/http/1/route/0/weight', value: 50 },
      { op: 'replace', path: '/spec/http/1/route/1/weight', value: 50 },
    ]);
    const state = await eventually(
      'the simulator to see the new weights',
      async () => {
        const s = (await (await fetch(`http://127.0.0.1:${sim.port}/state`)).json()) as { hosts: { plan: { entries: { subset?: string; share: number }[] } }[] };
        return s.hosts[0]!.plan.entries.map((e) => [e.subset, e.share]);
      },
      (entries) => JSON.stringify(entries) === JSON.stringify([['v1', 0.5], ['v2', 0.5]]),
      5_000,
    );
    expect(state).toHaveLength(2);
    // Counted between two instants after the change, so only requests under the new weights count.
    await new Promise((r) => setTimeout(r, 1500)); // one scrape after the switch
    const totals = `sum by (destination_version) (istio_requests_total{${sel}})`;
    const t1 = await queryByLabel(prom.url, totals, 'destination_version');
    await new Promise((r) => setTimeout(r, 8000));
    const t2 = await queryByLabel(prom.url, totals, 'destination_version');
    const after = Object.fromEntries(Object.entries(t2).map(([v, n]) => [v, n - (t1[v] ?? 0)]));
    expect(after.v1! + after.v2!).toBeGreaterThan(300);
    expect(Math.abs(share(after, 'v2') - 0.5)).toBeLessThan(0.08);

    // Prometheus can go away and come back on the same port with its data (a later test relies on this).
    await prom.down();
    expect(prom.running()).toBe(false);
    await expect(fetch(`${prom.url}/-/ready`)).rejects.toThrow();
    await prom.up();
    const kept = await queryByLabel(prom.url, totals, 'destination_version');
    expect(kept.v1).toBeGreaterThanOrEqual(t2.v1!);

    expect(await sim.stop()).toBe(0);
    expect(sim.logs.join('\n')).toContain('"msg":"traffic plan"');
    process.stderr.write(`[simulator.test] split visible after ${readyAfterMs} ms: ${JSON.stringify(split)}; 5xx ${JSON.stringify(errorShare)}; p99 ${p99!.value.toFixed(1)} ms; after 50/50: ${JSON.stringify(after)}\n`);
  }, 120_000);

  it('runs in-process and re-reads behaviour annotations while it runs', async () => {
    const ns = await bookinfoWithSplit('sim-lib', 100, 0);
    let sim: RunningSimulator | undefined;
    try {
      sim = await startSimulator({ hosts: [{ namespace: ns, service: 'reviews', rps: 20 }], kubeconfig: kubeconfigPath(), seed: 7, logLevel: 'warn' });
      const s = sim;
      expect(s.snapshot().hosts[0]!.plan.entries.map((e) => [e.subset, e.share, e.behaviour?.errorRate])).toEqual([['v1', 1, 0]]);
      await patchDeploymentAnnotations(ns, 'reviews-v1', { [ANNOTATIONS.errorRate]: '0.3', [ANNOTATIONS.errorCode]: '503' });
      await eventually(
        'the annotation to apply',
        async () => s.snapshot().hosts[0]!.plan.entries[0]?.behaviour,
        (b) => b?.errorRate === 0.3 && b.errorCode === 503,
        5_000,
      );
      // The new behaviour shows in the served metrics: v1 now fails some requests with 503.
      const failing = new RegExp(`istio_requests_total\\{reporter="destination".*destination_service_namespace="${ns}".*response_code="503"`);
      await eventually('503s from v1 in /metrics', async () => (await fetch(`${s.url}/metrics`)).text(), (text) => failing.test(text), 10_000);
      expect(s.snapshot().hosts[0]!.requests).toBeGreaterThan(0);
    } finally {
      await sim?.stop();
    }
  }, 60_000);

  it('follows a GAMMA HTTPRoute 90/10, seen in Prometheus by backend Service, and writes its status for every generation', async () => {
    const ns = await gammaBookinfo('sim-gamma', { 'reviews-v1': 90, 'reviews-v2': 10 });
    const sim = await startSimulator({ hosts: [{ namespace: ns, service: 'reviews', rps: 50 }], kubeconfig: kubeconfigPath(), seed: 5, logLevel: 'warn' });
    cleanups.push(() => sim.stop());
    const prom = await startPrometheus({ targets: [sim.target] });
    cleanups.push(() => prom.stop());

    // The status a mesh controller writes, for the route's first generation.
    const accepted = await eventually('the HTTPRoute status for generation 1', () => readRoute(ns), (r) => routeConditions(r).length > 0, 10_000);
    expect(accepted.status?.parents).toEqual([
      expect.objectContaining({ parentRef: { group: '', kind: 'Service', name: 'reviews', port: 9080 }, controllerName: 'istio.io/gateway-controller' }),
    ]);
    expect(routeConditions(accepted)).toEqual([
      ['Accepted', 'True', 'Accepted', 1],
      ['ResolvedRefs', 'True', 'ResolvedRefs', 1],
    ]);
    expect(sim.snapshot().hosts[0]!.plan.route).toEqual({ kind: 'HTTPRoute', namespace: ns, name: 'reviews', generation: 1 });

    const sel = `reporter="destination",destination_service_namespace="${ns}"`;
    const { split } = await eventually(
      'a 90/10 split by destination_service_name in Prometheus',
      async () => ({
        requests: (await queryPrometheus(prom.url, `sum(increase(istio_requests_total{${sel}}[30s]))`))[0]?.value ?? 0,
        split: await queryByLabel(prom.url, `sum by (destination_service_name) (rate(istio_requests_total{${sel}}[30s]))`, 'destination_service_name'),
      }),
      (r) => r.requests >= 300 && Math.abs(share(r.split, 'reviews-v2') - 0.1) < 0.03,
      30_000,
    );
    expect(Object.keys(split).sort()).toEqual(['reviews-v1', 'reviews-v2']);
    // Workload and version labels come from the Deployments behind each backend Service.
    const identity = await queryPrometheus(prom.url, `sum by (destination_service, destination_workload, destination_version) (istio_requests_total{${sel}})`);
    expect(identity.map((x) => x.metric).sort((a, b) => a.destination_workload!.localeCompare(b.destination_workload!))).toEqual([
      { destination_service: `reviews-v1.${ns}.svc.cluster.local`, destination_workload: 'reviews-v1', destination_version: 'v1' },
      { destination_service: `reviews-v2.${ns}.svc.cluster.local`, destination_workload: 'reviews-v2', destination_version: 'v2' },
    ]);

    // A weight change is a new generation: the status follows it, then a backend that does not exist.
    await setRouteBackends(ns, { 'reviews-v1': 50, 'reviews-v2': 50 });
    const second = await eventually('the status for generation 2', () => readRoute(ns), (r) => routeConditions(r).every((x) => x[3] === 2) && routeConditions(r).length === 2, 5_000);
    expect(second.metadata.generation).toBe(2);
    expect(routeConditions(second)).toEqual([
      ['Accepted', 'True', 'Accepted', 2],
      ['ResolvedRefs', 'True', 'ResolvedRefs', 2],
    ]);
    await setRouteBackends(ns, { 'reviews-v1': 50, 'reviews-v3': 50 });
    const third = await eventually('the status for generation 3', () => readRoute(ns), (r) => routeConditions(r).some((x) => x[3] === 3), 5_000);
    expect(routeConditions(third)).toEqual([
      ['Accepted', 'True', 'Accepted', 3],
      ['ResolvedRefs', 'False', 'BackendNotFound', 3],
    ]);
    expect(third.status!.parents![0]!.conditions[1]!.message).toContain('reviews-v3');
    expect(sim.snapshot().hosts[0]!.plan.route?.generation).toBe(3);
  }, 90_000);

  it('leaves an HTTPRoute without status when told no mesh controller runs (routeStatus: false), while still following it', async () => {
    const ns = await gammaBookinfo('sim-nostatus', { 'reviews-v1': 100 });
    let sim: RunningSimulator | undefined;
    try {
      sim = await startSimulator({ hosts: [{ namespace: ns, service: 'reviews', rps: 20 }], kubeconfig: kubeconfigPath(), seed: 3, logLevel: 'warn', routeStatus: false });
      const s = sim;
      expect(s.snapshot().hosts[0]!.plan.route).toEqual({ kind: 'HTTPRoute', namespace: ns, name: 'reviews', generation: 1 });
      // A change it follows, and requests sent by the new route: a controller would have written status by now.
      await setRouteBackends(ns, { 'reviews-v1': 0, 'reviews-v2': 100 });
      await eventually('the plan for generation 2 and requests under it', async () => s.snapshot().hosts[0]!, (h) => h.plan.route?.generation === 2 && h.requests > 20, 10_000);
      expect(s.routeStatusWrites()).toBe(0);
      expect((await readRoute(ns)).status?.parents ?? []).toEqual([]);
    } finally {
      await sim?.stop();
    }
  }, 60_000);

  it('reports an ambient namespace with a waypoint as reporter="waypoint" only, and one without a waypoint with no istio_requests_total', async () => {
    const withWaypoint = await gammaBookinfo('sim-ambient-wp', { 'reviews-v1': 90, 'reviews-v2': 10 }, { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' });
    const noWaypoint = await gammaBookinfo('sim-ambient', { 'reviews-v1': 90, 'reviews-v2': 10 }, { 'istio.io/dataplane-mode': 'ambient' });
    const sim = await startSimulator({
      hosts: [withWaypoint, noWaypoint].map((namespace) => ({ namespace, service: 'reviews', rps: 50 })),
      kubeconfig: kubeconfigPath(),
      seed: 9,
      logLevel: 'warn',
    });
    cleanups.push(() => sim.stop());
    const prom = await startPrometheus({ targets: [sim.target] });
    cleanups.push(() => prom.stop());
    expect(sim.snapshot().hosts.map((h) => h.plan.dataplane)).toEqual([
      { mode: 'ambient', waypoint: { name: 'waypoint', namespace: withWaypoint } },
      { mode: 'ambient' },
    ]);

    const wp = `reporter="waypoint",destination_service_namespace="${withWaypoint}"`;
    const { split } = await eventually(
      'waypoint-reported requests split 90/10',
      async () => ({
        requests: (await queryPrometheus(prom.url, `sum(increase(istio_requests_total{${wp}}[30s]))`))[0]?.value ?? 0,
        split: await queryByLabel(prom.url, `sum by (destination_service_name) (rate(istio_requests_total{${wp}}[30s]))`, 'destination_service_name'),
      }),
      (r) => r.requests >= 300 && Math.abs(share(r.split, 'reviews-v2') - 0.1) < 0.03,
      30_000,
    );
    expect(Object.keys(split).sort()).toEqual(['reviews-v1', 'reviews-v2']);
    // The ambient host without a waypoint has been scraped too: ztunnel's connection counts are there.
    await eventually(
      'L4 connections for the namespace without a waypoint',
      async () => (await queryPrometheus(prom.url, `sum(istio_tcp_connections_opened_total{reporter="destination",destination_service_namespace="${noWaypoint}"})`))[0]?.value ?? 0,
      (n) => n > 100,
      10_000,
    );
    const reporters = await queryByLabel(prom.url, `sum by (reporter) (istio_requests_total{destination_service_namespace="${withWaypoint}"})`, 'reporter');
    expect(Object.keys(reporters)).toEqual(['waypoint']);
    expect(await queryPrometheus(prom.url, `istio_requests_total{reporter=~"source|destination"}`)).toEqual([]);
    for (const label of ['destination_service_namespace', 'source_workload_namespace']) {
      expect(await queryPrometheus(prom.url, `istio_requests_total{${label}="${noWaypoint}"}`)).toEqual([]);
    }
  }, 90_000);
});
