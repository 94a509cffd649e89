// The mesh side of an e2e test: the mesh simulator sending traffic through
// the live routes of the given namespaces, a real Prometheus scraping it every
// second, and a way to make a subset misbehave.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startPrometheus, type RunningPrometheus } from '../../harness/prometheus.js';
import { ANNOTATIONS } from '../../../tools/mesh-simulator/behaviour.js';
import { startSimulator, type RunningSimulator } from '../../../tools/mesh-simulator/simulator.js';
import { kubeconfigPath, type Cluster } from './cluster.js';
import { startOperator, type OperatorProcess } from './operator-process.js';

export interface MeshStack {
  simulator: RunningSimulator;
  prometheus: RunningPrometheus;
  stop: () => Promise<void>;
}

/** Traffic for `service` in each namespace at `rps` requests per second, scraped by a real Prometheus. */
export async function startMesh(hosts: { namespace: string; service?: string; rps?: number }[], seed = 11): Promise<MeshStack> {
  const simulator = await startSimulator({
    kubeconfig: kubeconfigPath(),
    seed,
    logLevel: 'warn',
    hosts: hosts.map((h) => ({ namespace: h.namespace, service: h.service ?? 'reviews', rps: h.rps ?? 40 })),
  });
  const prometheus = await startPrometheus({ targets: [simulator.target], scrapeIntervalSeconds: 1 });
  return {
    simulator,
    prometheus,
    stop: async () => {
      await prometheus.stop();
      await simulator.stop();
    },
  };
}

/** How a subset behaves, through the simulator's annotations on its Deployment. */
export async function behave(c: Cluster, namespace: string, version: string, b: { errorRate?: number; p50?: number; p99?: number }): Promise<void> {
  const annotations: Record<string, string> = {};
  if (b.errorRate !== undefined) annotations[ANNOTATIONS.errorRate] = String(b.errorRate);
  if (b.p50 !== undefined) annotations[ANNOTATIONS.latencyP50] = String(b.p50);
  if (b.p99 !== undefined) annotations[ANNOTATIONS.latencyP99] = String(b.p99);
  await c.apps.patchNamespacedDeployment(
    { namespace, name: `reviews-${version}`, body: { metadata: { annotations } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** A mesh for `hosts` and an operator judging against its Prometheus; `stop` checks the operator exits cleanly. */
export async function startMeshAndOperator(
  hosts: { namespace: string; service?: string; rps?: number }[], env: Record<string, string> = {},
): Promise<{ mesh: MeshStack; operator: OperatorProcess; stop: () => Promise<number | null> }> {
  const mesh = await startMesh(hosts);
  const operator = startOperator({ PROMETHEUS_ADDRESS: mesh.prometheus.url, ...env });
  await operator.ready();
  return {
    mesh,
    operator,
    stop: async () => {
      const code = await operator.kill('SIGTERM');
      await mesh.stop();
      return code;
    },
  };
}
