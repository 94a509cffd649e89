// The Helm chart rendered with helm template: documented values, RBAC that is
// exactly the operator's needs, an environment the operator accepts, and the
// objects that depend on values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadYaml, type KubernetesObject, type V1ClusterRole, type V1Deployment, type V1Role, type V1RoleBinding } from '@kubernetes/client-node';
import { loadConfig } from '../../src/config.js';
import { CLUSTER_RIGHTS, leaseRights, OPERATOR_RIGHTS } from '../e2e/support/expected-rbac.js';
import { CHART_DIR, containerEnv, helmBinary, ofKind, renderChart } from '../e2e/support/helm.js';
import { expandRules } from '../e2e/support/service-account.js';

const valuesText = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
const render = (values?: Record<string, unknown>, release = 'canary-operator', namespace = 'ops') =>
  renderChart({ release, namespace, values }).then((r) => r.objects);
const deploymentOf = (objects: KubernetesObject[]) => {
  const [d] = ofKind<V1Deployment>(objects, 'Deployment');
  if (!d) throw new Error('no Deployment rendered');
  return d;
};
const envOf = (objects: KubernetesObject[]) =>
  containerEnv(deploymentOf(objects).spec?.template.spec?.containers[0]?.env, { name: 'canary-operator-abc-1', namespace: 'ops' });

beforeAll(async () => {
  await helmBinary(); // builds the pinned helm on first use
}, 15 * 60_000);

describe('values.yaml', () => {
  it('documents every value with a comment', () => {
    // A top-level key is documented by the comment just above it (its whole
    // subtree with it), or is a group whose every direct child is.
    const lines = valuesText.split('\n');
    const undocumented: string[] = [];
    let group: string | undefined;
    lines.forEach((line, i) => {
      const m = /^( *)([A-Za-z][\w-]*):/.exec(line);
      if (!m) return;
      const indent = m[1]!.length;
      const commented = lines[i - 1]?.trimStart().startsWith('#') === true;
      if (indent === 0) {
        const isGroup = !commented && /:\s*$/.test(line);
        group = isGroup ? m[2] : undefined;
        if (!commented && !isGroup) undocumented.push(m[2]!);
      } else if (indent === 2 && group && !commented) {
        undocumented.push(`${group}.${m[2]}`);
      }
    });
    expect(undocumented).toEqual([]);
  });

  it('and values.schema.json describe the same top-level values', () => {
    const values = loadYaml<Record<string, unknown>>(valuesText);
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties).filter((k) => k !== 'global').sort()).toEqual(Object.keys(values).sort());
  });

  it('has the documented defaults', () => {
    const v = loadYaml<Record<string, any>>(valuesText);
    expect(v).toMatchObject({
      image: { tag: '', pullPolicy: 'IfNotPresent' },
      replicas: 2,
      leaderElection: { enabled: true },
      watchNamespaces: [],
      prometheus: { address: '', allowedAddresses: [] },
      httpHost: '0.0.0.0',
      networkPolicy: { enabled: false, metricsFrom: [], apiServer: { cidrs: [], ports: [443, 6443] } },
      logLevel: 'info',
      workers: 4,
      serviceMonitor: { enabled: false },
      podSecurityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
  });
});

describe('invalid values', () => {
  it('rejects values that cannot work, naming them', async () => {
    await expect(render({ replicas: 2, leaderElection: { enabled: false } })).rejects.toThrow(/replicas > 1 needs leaderElection.enabled/);
    await expect(render({ watchNamespaces: ['Not_A_Namespace'] })).rejects.toThrow(/watchNamespaces/);
    await expect(render({ logLevel: 'loud' })).rejects.toThrow(/logLevel/);
    await expect(render({ watchNamespace: ['typo'] })).rejects.toThrow(/watchNamespace/);
  }, 60_000);
});

describe('the rendered chart', () => {
  it('grants exactly the operator rights cluster-wide, and the Lease rights in its own namespace only', async () => {
    const objects = await render();
    const [cr] = ofKind<V1ClusterRole>(objects, 'ClusterRole');
    expect(expandRules(cr?.rules ?? [])).toEqual(CLUSTER_RIGHTS);
    const roles = ofKind<V1Role>(objects, 'Role');
    expect(roles.map((r) => r.metadata?.namespace)).toEqual(['ops']);
    expect(expandRules(roles[0]?.rules ?? [])).toEqual(leaseRights('canary-operator-leader'));
    expect(ofKind(objects, 'ClusterRoleBinding')).toHaveLength(1);
    for (const b of ofKind<V1RoleBinding>(objects, 'ClusterRoleBinding').concat(ofKind(objects, 'RoleBinding'))) {
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'canary-operator', namespace: 'ops' }]);
    }
  }, 60_000);

  it('with watchNamespaces: a Role per watched namespace and nothing cluster-wide', async () => {
    const objects = await render({ watchNamespaces: ['team-a', 'team-b', 'team-a'] });
    expect(ofKind(objects, 'ClusterRole')).toHaveLength(0);
    expect(ofKind(objects, 'ClusterRoleBinding')).toHaveLength(0);
    const roles = ofKind<V1Role>(objects, 'Role');
    expect(roles.map((r) => r.metadata?.namespace).sort()).toEqual(['ops', 'team-a', 'team-b']);
    for (const r of roles.filter((r) => r.metadata?.namespace !== 'ops')) expect(expandRules(r.rules ?? [])).toEqual(OPERATOR_RIGHTS);
    expect(ofKind(objects, 'RoleBinding').map((b) => b.metadata?.namespace).sort()).toEqual(['ops', 'team-a', 'team-b']);
    expect(envOf(objects).WATCH_NAMESPACES).toBe('team-a,team-b');
  }, 60_000);

  it('sets an environment the operator accepts, with the chart defaults', async () => {
    const env = envOf(await render());
    // Every variable the chart sets is one src/config.ts reads (a typo would be silently ignored).
    const configSource = readFileSync(join(CHART_DIR, '..', '..', 'src', 'config.ts'), 'utf8');
    for (const name of Object.keys(env)) expect(configSource).toMatch(new RegExp(`\\b${name}:`));
    const config = loadConfig(env);
    expect(config).toMatchObject({
      LOG_LEVEL: 'info', HTTP_PORT: 8080, HTTP_HOST: '0.0.0.0', WORKERS: 4, RELIST_SECONDS: 600,
      POD_NAME: 'canary-operator-abc-1', POD_NAMESPACE: 'ops',
      LEADER_ELECT: 'true', LEASE_NAME: 'canary-operator-leader', LEASE_NAMESPACE: 'ops', LEASE_DURATION_SECONDS: 15,
      namespaces: [],
    });
    expect(config.PROMETHEUS_ADDRESS).toBeUndefined();
    expect(config.ISTIO_API_VERSION).toBeUndefined();
  }, 60_000);

  it('passes the optional settings through', async () => {
    const objects = await render({
      prometheus: { address: 'http://prometheus.istio-system:9090' }, istioApiVersion: 'v1beta1', logLevel: 'debug', workers: 8,
      relistSeconds: 120, httpPort: 9090, leaderElection: { enabled: true, leaseName: 'my-lease', leaseDurationSeconds: 30 },
      extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=384' }],
    }, 'prod', 'ops');
    const env = envOf(objects);
    expect(loadConfig(env)).toMatchObject({
      PROMETHEUS_ADDRESS: 'http://prometheus.istio-system:9090', ISTIO_API_VERSION: 'v1beta1', LOG_LEVEL: 'debug', WORKERS: 8,
      RELIST_SECONDS: 120, HTTP_PORT: 9090, LEASE_NAME: 'my-lease', LEASE_DURATION_SECONDS: 30,
    });
    expect(env.NODE_OPTIONS).toBe('--max-old-space-size=384');
    const c = deploymentOf(objects).spec?.template.spec?.containers[0];
    expect(c?.ports).toEqual([{ name: 'http-metrics', containerPort: 9090, protocol: 'TCP' }]);
    expect(deploymentOf(objects).metadata?.name).toBe('prod-canary-operator');
    expect(expandRules(ofKind<V1Role>(objects, 'Role')[0]?.rules ?? [])).toEqual(leaseRights('my-lease'));
  }, 60_000);

  it('runs a hardened pod with probes on the http-metrics port', async () => {
    const objects = await render();
    const d = deploymentOf(objects);
    const pod = d.spec?.template.spec;
    const c = pod?.containers[0];
    expect(d.spec?.replicas).toBe(2);
    expect(c?.image).toBe('canary-operator:0.1.0');
    expect(pod?.serviceAccountName).toBe('canary-operator');
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c?.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http-metrics' });
    expect(c?.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http-metrics' });
    expect(c?.ports?.[0]).toMatchObject({ name: 'http-metrics', containerPort: 8080 });
    const [svc] = ofKind<KubernetesObject & { spec?: { ports?: unknown[] } }>(objects, 'Service');
    expect(svc?.spec?.ports).toEqual([expect.objectContaining({ name: 'http-metrics', targetPort: 'http-metrics' })]);
  }, 60_000);

  it('adds a PodDisruptionBudget only with more than one replica, and a ServiceMonitor only when asked', async () => {
    const two = await render();
    expect(ofKind(two, 'PodDisruptionBudget')).toHaveLength(1);
    expect(ofKind(two, 'ServiceMonitor')).toHaveLength(0);
    const one = await render({ replicas: 1, serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus' } } });
    expect(ofKind(one, 'PodDisruptionBudget')).toHaveLength(0);
    const [sm] = ofKind<KubernetesObject & { spec?: { endpoints?: unknown[] } }>(one, 'ServiceMonitor');
    expect(sm?.metadata?.labels).toMatchObject({ release: 'kube-prometheus' });
    expect(sm?.spec?.endpoints).toEqual([expect.objectContaining({ port: 'http-metrics', path: '/metrics' })]);
  }, 60_000);

  it('passes httpHost and prometheus.allowedAddresses to the operator', async () => {
    const env = envOf(await render({
      httpHost: '127.0.0.1',
      prometheus: { address: 'http://prometheus.istio-system:9090', allowedAddresses: ['http://thanos.monitoring:9090/tenant-a', 'https://prom.example'] },
    }));
    const config = loadConfig(env);
    expect(config.HTTP_HOST).toBe('127.0.0.1');
    expect(config.allowedPrometheusAddresses).toEqual(['http://thanos.monitoring:9090/tenant-a', 'https://prom.example', 'http://prometheus.istio-system:9090']);
    expect(envOf(await render()).PROMETHEUS_ALLOWED_ADDRESSES).toBeUndefined();
    await expect(render({ prometheus: { allowedAddresses: ['file:///etc/passwd'] } })).rejects.toThrow(/allowedAddresses/);
  }, 60_000);

  it('renders a NetworkPolicy only when asked: ingress to the metrics port from metricsFrom, egress to the API server, Prometheus and DNS only', async () => {
    expect(ofKind(await render(), 'NetworkPolicy')).toHaveLength(0);
    const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const prometheus = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'prometheus' } } };
    const objects = await render({
      networkPolicy: { enabled: true, metricsFrom: [monitoring], apiServer: { cidrs: ['10.96.0.1/32', '172.18.0.2/32'] }, prometheus: { to: [prometheus] } },
    });
    type Np = KubernetesObject & { spec?: Record<string, any> };
    const [np] = ofKind<Np>(objects, 'NetworkPolicy');
    expect(np?.metadata?.namespace).toBe('ops');
    expect(np?.spec?.podSelector).toEqual({ matchLabels: deploymentOf(objects).spec?.selector.matchLabels });
    expect(np?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    // client-node's model names the peers of an ingress rule `_from`.
    expect(np?.spec?.ingress).toEqual([{ _from: [monitoring], ports: [{ port: 'http-metrics', protocol: 'TCP' }] }]);
    expect(np?.spec?.egress).toEqual([
      { to: [{ ipBlock: { cidr: '10.96.0.1/32' } }, { ipBlock: { cidr: '172.18.0.2/32' } }], ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] },
      { to: [prometheus], ports: [{ port: 9090, protocol: 'TCP' }] },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
      },
    ]);
    // No metricsFrom: no ingress at all (an empty from would admit everyone).
    const closed = ofKind<Np>(await render({ networkPolicy: { enabled: true, apiServer: { cidrs: ['10.96.0.1/32'], ports: [6443] } } }), 'NetworkPolicy');
    expect(closed[0]?.spec?.ingress).toEqual([]);
    expect(closed[0]?.spec?.egress?.[0]?.ports).toEqual([{ port: 6443, protocol: 'TCP' }]);
    expect(closed[0]?.spec?.egress).toHaveLength(2);
  }, 60_000);

  it('refuses networkPolicy.enabled without the API server addresses', async () => {
    await expect(render({ networkPolicy: { enabled: true } })).rejects.toThrow(/networkPolicy.enabled needs networkPolicy.apiServer.cidrs/);
  }, 60_000);

  it('has no leader-election Role when leader election is off', async () => {
    const objects = await render({ replicas: 1, leaderElection: { enabled: false } });
    expect(ofKind(objects, 'Role')).toHaveLength(0);
    expect(loadConfig(envOf(objects)).LEADER_ELECT).toBe('false');
  }, 60_000);
});
