// Everything the demo runs beside the operator: a control plane (local, or an
// existing cluster), the mesh simulator and Prometheus, each started with
// progress lines and stopped in reverse order.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../../test/harness/control-plane.js';
import { operatorEntrypoint } from '../../test/harness/project-root.js';
import { startPrometheus, type RunningPrometheus } from '../../test/harness/prometheus.js';
import { startSimulator, type RunningSimulator } from '../mesh-simulator/index.js';

export interface Stack {
  controlPlane: ControlPlane;
  prometheusUrl: string;
  operatorLog: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  root: string;
  /** Where the mesh sends reviews traffic: the Istio namespace, and the Gateway API one. */
  namespaces: string[];
  say: (line: string) => void;
  /** An existing Prometheus (with a real mesh); no simulator is started then. */
  prometheusUrl?: string | undefined;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    o.say(process.env.CANARY_TEST_KUBECONFIG
      ? `using the existing cluster in ${process.env.CANARY_TEST_KUBECONFIG}`
      : 'starting a local kube-apiserver + etcd (the first run builds them from Go modules: ~20 min on 2 cores, progress below)');
    const controlPlane = await startControlPlane({ log: (l) => process.stderr.write(`  [control-plane] ${l}\n`) });
    stops.push(() => controlPlane.stop());
    o.say(`kube-apiserver ${controlPlane.serverVersion} at ${controlPlane.server}`);

    let prometheusUrl = o.prometheusUrl;
    let simulator: RunningSimulator | undefined;
    let prometheus: RunningPrometheus | undefined;
    if (!prometheusUrl) {
      simulator = await startSimulator({
        kubeconfig: controlPlane.kubeconfigPath, seed: 42, logLevel: 'warn',
        hosts: o.namespaces.map((namespace) => ({ namespace, service: 'reviews', rps: 100, matchShare: 0.05 })),
      });
      stops.push(() => simulator?.stop() ?? Promise.resolve());
      prometheus = await startPrometheus({ targets: [simulator.target], scrapeIntervalSeconds: 1 });
      stops.push(() => prometheus?.stop() ?? Promise.resolve());
      prometheusUrl = prometheus.url;
      o.say(`mesh simulator: 100 requests/s to reviews in ${o.namespaces.join(' and ')}, split by the live VirtualService or HTTPRoute; Istio metrics at ${simulator.url}/metrics`);
      o.say(`Prometheus ${prometheusUrl} scraping it every second`);
    }

    const operatorLog = join(controlPlane.workDir, 'operator.log');
    const operator = startOperator(o.root, controlPlane.kubeconfigPath, prometheusUrl, operatorLog);
    stops.push(() => operator.stop());
    o.say(`operator started (pid ${operator.child.pid}); JSON logs in ${operatorLog}`);
    return { controlPlane, prometheusUrl, operatorLog, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function startOperator(root: string, kubeconfig: string, prometheusUrl: string, logPath: string): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [operatorEntrypoint(root)], {
    env: { ...process.env, KUBECONFIG: kubeconfig, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', PROMETHEUS_ADDRESS: prometheusUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logPath);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
