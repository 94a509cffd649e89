// The traffic source: the mesh simulator in its static mode, as a process of
// its own (its 50 MB scrapes must not delay the benchmark's clocks), with the
// releases' hosts and the unrelated background services.
import { join } from 'node:path';
import { freePorts } from '../../test/harness/free-port.js';
import { spawnGroup, type GroupProcess } from '../../test/harness/process-group.js';
import { projectRoot } from '../../test/harness/project-root.js';
import { waitForUrl } from '../../test/harness/wait-for-url.js';
import type { ReleaseFixture } from './fixtures.js';

export interface TrafficSource {
  process: GroupProcess;
  /** host:port for Prometheus. */
  target: string;
  /** What the output says about the traffic. */
  description: string;
  stop(): Promise<void>;
}

export async function startTrafficSource(opts: { kubeconfig: string; workDir: string; fixtures: readonly ReleaseFixture[]; rps: number; backgroundServices: number }): Promise<TrafficSource> {
  const [port] = (await freePorts(1)) as [number];
  // Plans are rebuilt for every host when any watched object changes; once a second is plenty for 30 s windows.
  const args = [
    join(projectRoot(), 'dist', 'tools', 'mesh-simulator', 'main.js'),
    '--mode', 'static', '--port', String(port), '--seed', '1', '--tick-ms', '1000', '--log-level', 'warn', '--kubeconfig', opts.kubeconfig,
    ...opts.fixtures.flatMap((f) => ['--host', `${f.namespace}/${f.name}:${opts.rps}`]),
    ...(opts.backgroundServices > 0 ? ['--background-services', String(opts.backgroundServices)] : []),
  ];
  const proc = await spawnGroup('mesh-simulator', process.execPath, args, { logFile: join(opts.workDir, 'mesh-simulator.log'), cwd: opts.workDir });
  try {
    await waitForUrl(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 120_000, intervalMs: 200, abortIf: () => (proc.exitStatus() ? `mesh simulator exited (${proc.exitStatus()})` : undefined) });
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- mesh-simulator.log (tail) ---\n${proc.logTail()}`);
  }
  const description =
    `mesh simulator, static mode (counts at the live VirtualService weights, no per-request simulation; compact labels, reporter="destination"), ` +
    `${opts.rps} rps per release host, ${opts.backgroundServices} unrelated services x 2 versions in the same exposition`;
  return { process: proc, target: `127.0.0.1:${port}`, description, stop: () => proc.stop() };
}
