// The Helm chart and deploy/ against the e2e API server: lint, a server-side
// dry run of what the chart renders, kubectl apply -f deploy/, and a real
// helm install whose ServiceAccount and Deployment environment run the real
// operator (no kubelet runs here, so the operator runs as a local process
// with the identity and settings a pod of the chart would have).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApiextensionsV1Api, CoordinationV1Api, PolicyV1Api, RbacAuthorizationV1Api, type V1Deployment,
} from '@kubernetes/client-node';
import { freePorts } from '../harness/free-port.js';
import { Cluster, kubeconfigPath, waitFor, waitForRelease } from './support/cluster.js';
import { CHART_DIR, KUBE_VERSION, ROOT, containerEnv, helm } from './support/helm.js';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { writeServiceAccountKubeconfig } from './support/service-account.js';

const c = new Cluster();
const work = mkdtempSync(join(tmpdir(), 'canary-helm-e2e-'));
const external = Boolean(process.env.CANARY_TEST_KUBECONFIG);

/** Runs kubectl against the e2e cluster, optionally feeding stdin. */
function kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfigPath(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`kubectl ${args.join(' ')} exited ${code}\n${stderr}${stdout}`)),
    );
    child.stdin.end(input ?? '');
  });
}

const documents = (yaml: string) => yaml.split(/^---$/m).filter((d) => /^kind: /m.test(d)).length;
const status = async (url: string) => (await fetch(url)).status;

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the chart', () => {
  it('passes helm lint --strict, with the defaults and with every optional part switched on', async () => {
    const { stdout } = await helm(['lint', '--strict', CHART_DIR]);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    const values = ['watchNamespaces={team-a,team-b}', 'serviceMonitor.enabled=true', 'prometheus.address=http://prometheus.istio-system:9090',
      'istioApiVersion=v1beta1', 'replicas=1', 'leaderElection.enabled=false', 'podAnnotations.a=b', 'nodeSelector.kubernetes\\.io/os=linux'];
    await helm(['lint', '--strict', CHART_DIR, ...values.flatMap((v) => ['--set', v])]);
  }, 60_000);

  it.each([
    ['the default values', [] as string[]],
    ['watchNamespaces, a Prometheus, a pinned Istio version and one replica without leader election', [
      '--set', 'watchNamespaces={WATCHED_A,WATCHED_B}', '--set', 'prometheus.address=http://prometheus.istio-system:9090',
      '--set', 'istioApiVersion=v1', '--set', 'replicas=1', '--set', 'leaderElection.enabled=false', '--set', 'logLevel=debug',
    ]],
  ])('renders objects the API server accepts with %s (kubectl apply --dry-run=server)', async (_, sets) => {
    const ns = await c.namespace('helm-dry');
    const watched = [await c.namespace('helm-dry-a'), await c.namespace('helm-dry-b')];
    const args = sets.map((a) => a.replace('WATCHED_A', watched[0]!).replace('WATCHED_B', watched[1]!));
    const { stdout: rendered } = await helm(['template', 'dry-run', CHART_DIR, '--namespace', ns, '--kube-version', KUBE_VERSION, '--include-crds', ...args]);
    const { stdout } = await kubectl(['apply', '--dry-run=server', '-f', '-'], rendered);
    const applied = stdout.trim().split('\n');
    expect(applied).toHaveLength(documents(rendered));
    for (const line of applied) expect(line).toMatch(/ \(server dry run\)$/);
    expect(stdout).toContain('customresourcedefinition.apiextensions.k8s.io/canaryreleases.canary-operator.dev');
    expect(stdout).toMatch(/deployment\.apps\/dry-run-canary-operator (created|configured)/);
  }, 60_000);
});

describe('deploy/', () => {
  const instance = '-l app.kubernetes.io/instance=canary-operator'.split(' ');

  afterAll(async () => {
    // Everything the chart made; the CRD (shared with the other tests) and the Namespace stay.
    if (!external) await kubectl(['delete', '-f', join(ROOT, 'deploy'), ...instance, '--ignore-not-found', '--wait=false']);
  });

  it('kubectl apply -f deploy/ installs the operator into namespace canary-operator, and again changes nothing', async () => {
    if (external) {
      // An existing cluster may run the operator for real: only ask the server.
      const { stdout } = await kubectl(['apply', '--dry-run=server', '-f', join(ROOT, 'deploy')]);
      expect(stdout).toContain('deployment.apps/canary-operator');
      return;
    }
    const first = await kubectl(['apply', '-f', join(ROOT, 'deploy')]);
    expect(first.stdout.split('\n')[0]).toBe('namespace/canary-operator created'); // the Namespace comes first
    const d = await c.deploymentOf('canary-operator', 'canary-operator');
    expect(d.spec?.template.spec?.serviceAccountName).toBe('canary-operator');
    expect(d.spec?.replicas).toBe(2);
    const rbac = c.kc.makeApiClient(RbacAuthorizationV1Api);
    await expect(rbac.readClusterRole({ name: 'canary-operator' })).resolves.toBeTruthy();
    await expect(rbac.readNamespacedRole({ namespace: 'canary-operator', name: 'canary-operator-leader-election' })).resolves.toBeTruthy();
    await expect(c.kc.makeApiClient(PolicyV1Api).readNamespacedPodDisruptionBudget({ namespace: 'canary-operator', name: 'canary-operator' })).resolves.toBeTruthy();
    // Applying again changes nothing (kubectl diff exits 0 only when there is no difference).
    await kubectl(['apply', '-f', join(ROOT, 'deploy')]);
    await expect(kubectl(['diff', '-f', join(ROOT, 'deploy')])).resolves.toMatchObject({ stdout: '' });
  }, 60_000);
});

describe('helm install', () => {
  const release = 'canary-operator-test';
  const ns = 'canary-operator-test';
  let deployment: V1Deployment;
  let op: OperatorProcess | undefined;

  beforeAll(async () => {
    // upgrade --install: also works on a reused external cluster where it is already installed.
    const { stdout } = await helm(['upgrade', '--install', release, CHART_DIR, '--namespace', ns, '--create-namespace'], { kubeconfig: kubeconfigPath() });
    expect(stdout).toMatch(/STATUS: deployed/);
    deployment = await c.deploymentOf(ns, release);
  }, 120_000);

  afterAll(async () => {
    await op?.kill('SIGTERM');
    await helm(['uninstall', release, '--namespace', ns], { kubeconfig: kubeconfigPath() });
    // Uninstall removes the cluster-wide RBAC but keeps the CRD, and with it everyone's CanaryReleases.
    await expect(c.kc.makeApiClient(RbacAuthorizationV1Api).readClusterRole({ name: release })).rejects.toMatchObject({ code: 404 });
    await expect(c.kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'canaryreleases.canary-operator.dev' })).resolves.toBeTruthy();
  }, 60_000);

  it('created the chart objects with the defaults', async () => {
    expect(deployment.spec?.replicas).toBe(2);
    const pod = deployment.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe(release);
    expect(pod?.containers[0]?.image).toBe('canary-operator:0.1.0');
    expect((await c.core.readNamespacedServiceAccount({ namespace: ns, name: release })).metadata?.name).toBe(release);
    expect((await c.core.readNamespacedService({ namespace: ns, name: `${release}-metrics` })).spec?.ports?.[0]?.targetPort).toBe('http-metrics');
    const { stdout } = await helm(['status', release, '--namespace', ns], { kubeconfig: kubeconfigPath() });
    expect(stdout).toMatch(/STATUS: deployed/);
  });

  it('the operator with the installed ServiceAccount and Deployment env serves its probes and drives a release to Succeeded', async () => {
    const pod = deployment.spec!.template.spec!;
    const container = pod.containers[0]!;
    const podName = `${release}-7c9d8b6f5-k2m4x`;
    const env = containerEnv(container.env, { name: podName, namespace: ns });
    const kubeconfig = join(work, 'sa.kubeconfig');
    await writeServiceAccountKubeconfig(c.kc, ns, pod.serviceAccountName!, kubeconfig);
    const [port] = (await freePorts(1)) as [number];
    expect(env).toMatchObject({ LEADER_ELECT: 'true', HTTP_PORT: String(container.ports?.[0]?.containerPort) });
    op = startOperator({ ...env, HTTP_PORT: String(port), KUBECONFIG: kubeconfig });

    // The Deployment's probes, on the port the process listens on.
    const base = `http://127.0.0.1:${port}`;
    await waitFor('liveness probe', async () => (await status(`${base}${container.livenessProbe!.httpGet!.path}`)) === 200, 20_000);
    await op.ready();
    await waitFor('readiness probe', async () => (await status(`${base}${container.readinessProbe!.httpGet!.path}`)) === 200, 20_000);
    expect(await status(`${base}/metrics`)).toBe(200);

    const app = await c.namespace('helm-e2e');
    await c.bookinfo(app);
    await c.createRelease(app, {
      service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
      stable: { subset: 'v1' }, canary: { subset: 'v2' }, steps: [{ weight: 20, duration: '1s' }, { weight: 100 }],
    });
    const done = await waitForRelease(c, app, 'Succeeded', (r) => r.status?.phase === 'Succeeded', 30_000);
    expect(done.status).toMatchObject({ canaryWeight: 100, stableSubset: 'v1', canarySubset: 'v2' });
    expect(await c.settled(app, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });

    // It took the chart's Lease, as this pod.
    const lease = await c.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name: env.LEASE_NAME! });
    expect(lease.spec?.holderIdentity).toBe(podName);
    expect(op.logs.filter((l) => /forbidden|\b403\b/i.test(l))).toEqual([]);
    expect(await op.kill('SIGTERM')).toBe(0);
  }, 90_000);
});
