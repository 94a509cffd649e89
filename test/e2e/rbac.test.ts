// The chart's RBAC is enough and no more: the real operator runs as a
// ServiceAccount bound to exactly the ClusterRole and Roles the chart renders
// (a TokenRequest token, like a pod's) and drives a release to Succeeded,
// while access reviews show what that identity may not do.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api, type KubeConfig, type KubernetesObject, type V1ClusterRole, type V1Deployment, type V1Role } from '@kubernetes/client-node';
import { Cluster, GROUP, ISTIO, waitForRelease } from './support/cluster.js';
import { CLUSTER_RIGHTS, leaseRights, OPERATOR_RIGHTS } from './support/expected-rbac.js';
import { containerEnv, ofKind, renderChart } from './support/helm.js';
import { startOperator, type OperatorProcess } from './support/operator-process.js';
import { can, createObjects, deleteObjects, expandRules, resourceRights, writeServiceAccountKubeconfig } from './support/service-account.js';

const c = new Cluster();
const work = mkdtempSync(join(tmpdir(), 'canary-rbac-'));
const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
const operators: OperatorProcess[] = [];
const created: KubernetesObject[] = [];

const spec = { service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' }, stable: { subset: 'v1' }, canary: { subset: 'v2' }, steps: [{ weight: 50, duration: '1s' }, { weight: 100 }] };

interface Installed {
  /** The operator's namespace (the chart's release namespace). */
  ns: string;
  sa: KubeConfig;
  kubeconfig: string;
  objects: KubernetesObject[];
  leaseName: string;
  /** The Deployment's container env as a pod of it would see it. */
  env: Record<string, string>;
}

/** Renders the chart, creates only its RBAC objects (as admin) and returns the ServiceAccount's identity. */
async function installRbac(release: string, values: Record<string, unknown> = {}): Promise<Installed> {
  const ns = await c.namespace('rbac-op');
  const { objects } = await renderChart({ release, namespace: ns, values });
  const rbac = objects.filter((o) => RBAC_KINDS.includes(o.kind ?? ''));
  created.push(...rbac);
  await createObjects(c.kc, rbac);
  const deployment = ofKind<V1Deployment>(objects, 'Deployment')[0]!;
  const pod = deployment.spec!.template.spec!;
  const env = containerEnv(pod.containers[0]!.env, { name: `${deployment.metadata!.name}-5d8f7c9b4-x2x7q`, namespace: ns });
  const kubeconfig = join(work, `${release}.kubeconfig`);
  const sa = await writeServiceAccountKubeconfig(c.kc, ns, pod.serviceAccountName!, kubeconfig);
  return { ns, sa, kubeconfig, objects, leaseName: env.LEASE_NAME!, env };
}

/** The operator as a pod of the chart's Deployment would run it, with the ServiceAccount's token. */
function runAs(i: Installed): OperatorProcess {
  const op = startOperator({ ...i.env, KUBECONFIG: i.kubeconfig, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1' });
  operators.push(op);
  return op;
}

const forbiddenLines = (op: OperatorProcess) => op.logs.filter((l) => /forbidden|\b403\b/i.test(l));

async function releaseSucceeds(op: OperatorProcess, ns: string): Promise<void> {
  await c.bookinfo(ns);
  await c.createRelease(ns, spec);
  const done = await waitForRelease(c, ns, 'Succeeded as the ServiceAccount', (r) => r.status?.phase === 'Succeeded', 30_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\noperator log lines about refused requests:\n${forbiddenLines(op).join('\n') || '(none)'}`);
  });
  expect(done.status).toMatchObject({ canaryWeight: 100, currentStep: 2 });
  expect(done.metadata.finalizers).toContain(`${GROUP}/restore-stable`); // patch on canaryreleases
  expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 }); // patch on virtualservices
  const reasons = (await c.eventsWith(ns, ['Started', 'Promoted'])).map((e) => e.reason);
  expect(reasons).toEqual(expect.arrayContaining(['Started', 'Promoted'])); // create on events
  // Deleting a finished release: the operator removes its finalizer (patch) and the release goes.
  await c.deleteRelease(ns);
  await expect(waitForGone(ns)).resolves.toBe(true);
}

async function waitForGone(ns: string): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (!(await c.release(ns))) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

afterAll(async () => {
  for (const op of operators) await op.kill('SIGTERM');
  await deleteObjects(c.kc, created.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'));
  rmSync(work, { recursive: true, force: true });
});

describe('with the default values (all namespaces)', () => {
  let i: Installed;
  let op: OperatorProcess;
  beforeAll(async () => {
    i = await installRbac('rbac-all-canary-operator');
  }, 60_000);

  it('the chart renders exactly the needed rules: a ClusterRole, and a Lease Role in its namespace', () => {
    const [cr] = ofKind<V1ClusterRole>(i.objects, 'ClusterRole');
    expect(expandRules(cr!.rules!)).toEqual(CLUSTER_RIGHTS);
    const roles = ofKind<V1Role>(i.objects, 'Role');
    expect(roles).toHaveLength(1);
    expect(roles[0]!.metadata!.namespace).toBe(i.ns);
    expect(expandRules(roles[0]!.rules!)).toEqual(leaseRights(i.leaseName));
    expect(i.env.LEADER_ELECT).toBe('true');
  });

  it('the operator, with only the ServiceAccount token, drives a release to Succeeded', async () => {
    op = runAs(i);
    await op.ready();
    await releaseSucceeds(op, await c.namespace('rbac-all'));
    // It led through its Lease (get/create/update in its namespace).
    const lease = await c.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: i.ns, name: i.leaseName });
    expect(lease.spec?.holderIdentity).toBe(i.env.POD_NAME);
    expect(forbiddenLines(op)).toEqual([]);
    expect(await op.kill('SIGTERM')).toBe(0);
  }, 90_000);

  it('the ServiceAccount has exactly the operator rights in any namespace, plus the Lease rights in its own', async () => {
    const other = await c.namespace('rbac-any');
    expect(await resourceRights(i.sa, other)).toEqual(CLUSTER_RIGHTS);
    expect(await resourceRights(i.sa, i.ns)).toEqual([...CLUSTER_RIGHTS, ...leaseRights(i.leaseName)].sort());
  });

  it('may patch VirtualServices and write status, but not read Secrets, delete VirtualServices or update a release spec', async () => {
    const ns = await c.namespace('rbac-sar');
    const may = (verb: string, group: string, resource: string, extra: { namespace?: string; subresource?: string; name?: string } = { namespace: ns }) =>
      can(i.sa, { verb, group, resource, ...extra });
    // What the operator does.
    expect(await may('patch', ISTIO, 'virtualservices')).toBe(true);
    expect(await may('watch', ISTIO, 'virtualservices', {})).toBe(true); // all namespaces
    expect(await may('update', GROUP, 'canaryreleases', { namespace: ns, subresource: 'status' })).toBe(true);
    expect(await may('patch', GROUP, 'canaryreleases')).toBe(true);
    expect(await may('create', '', 'events')).toBe(true);
    expect(await may('update', 'coordination.k8s.io', 'leases', { namespace: i.ns, name: i.leaseName })).toBe(true);
    // What it must not.
    expect(await may('get', '', 'secrets')).toBe(false);
    expect(await may('list', '', 'secrets', {})).toBe(false);
    expect(await may('get', '', 'secrets', { namespace: i.ns })).toBe(false);
    expect(await may('delete', ISTIO, 'virtualservices')).toBe(false);
    expect(await may('update', ISTIO, 'virtualservices')).toBe(false);
    expect(await may('create', ISTIO, 'virtualservices')).toBe(false);
    expect(await may('patch', ISTIO, 'destinationrules')).toBe(false);
    expect(await may('update', GROUP, 'canaryreleases')).toBe(false);
    expect(await may('create', GROUP, 'canaryreleases')).toBe(false);
    expect(await may('delete', GROUP, 'canaryreleases')).toBe(false);
    expect(await may('get', '', 'pods')).toBe(false);
    expect(await may('get', 'apps', 'deployments')).toBe(false);
    expect(await may('patch', 'apps', 'deployments')).toBe(false);
    expect(await may('delete', '', 'events')).toBe(false);
    expect(await may('create', 'coordination.k8s.io', 'leases')).toBe(false); // not outside its namespace
    expect(await may('update', 'coordination.k8s.io', 'leases', { namespace: i.ns, name: 'someone-elses-lease' })).toBe(false);
    expect(await may('delete', 'coordination.k8s.io', 'leases', { namespace: i.ns, name: i.leaseName })).toBe(false);
    expect(await may('create', 'rbac.authorization.k8s.io', 'clusterrolebindings', {})).toBe(false);
  });
});

describe('with watchNamespaces (no cluster-wide rights)', () => {
  let i: Installed;
  let watched: string;
  beforeAll(async () => {
    watched = await c.namespace('rbac-watched');
    i = await installRbac('rbac-ns-canary-operator', { watchNamespaces: [watched] });
  }, 60_000);

  it('the chart renders no ClusterRole, only Roles', () => {
    expect(ofKind(i.objects, 'ClusterRole')).toHaveLength(0);
    expect(ofKind(i.objects, 'ClusterRoleBinding')).toHaveLength(0);
    expect(ofKind<V1Role>(i.objects, 'Role').map((r) => r.metadata!.namespace).sort()).toEqual([i.ns, watched].sort());
    expect(i.env.WATCH_NAMESPACES).toBe(watched);
  });

  it('the operator drives a release in the watched namespace to Succeeded', async () => {
    const op = runAs(i);
    await op.ready();
    await releaseSucceeds(op, watched);
    expect(forbiddenLines(op)).toEqual([]);
    expect(await op.kill('SIGTERM')).toBe(0);
  }, 90_000);

  it('the ServiceAccount has the operator rights in the watched namespace only', async () => {
    expect(await resourceRights(i.sa, watched)).toEqual(OPERATOR_RIGHTS);
    expect(await resourceRights(i.sa, await c.namespace('rbac-unwatched'))).toEqual([]);
    expect(await can(i.sa, { verb: 'list', group: ISTIO, resource: 'virtualservices' })).toBe(false); // all namespaces
    expect(await can(i.sa, { verb: 'patch', group: ISTIO, resource: 'virtualservices', namespace: watched })).toBe(true);
  });
});
