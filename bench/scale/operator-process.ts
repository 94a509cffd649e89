// The real operator entrypoint (the image's ENTRYPOINT script, dist/operator.js) as a process of its own
// group (stopped if the benchmark dies), with the image's runtime settings
// (image-runtime.ts), its own kubeconfig, its logs in a file, the TLS
// connection counter preloaded, and optionally --cpu-prof.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePorts } from '../../test/harness/free-port.js';
import { projectImageNodeFlags, projectImageNodeScript, projectImageRuntimeEnv } from './image-runtime.js';
import { spawnGroup, type GroupProcess } from '../../test/harness/process-group.js';
import { projectRoot } from '../../test/harness/project-root.js';
import { waitForUrl } from '../../test/harness/wait-for-url.js';

/**
 * The script the benchmark runs: the image's (the bundle), except under
 * --cpu-prof, which runs the unbundled dist/src/main.js so that the profile's
 * frames name their source files and packages.
 */
export function operatorScript(root: string, cpuProfile: boolean): string {
  return cpuProfile ? join(root, 'dist', 'src', 'main.js') : projectImageNodeScript(root);
}

export interface OperatorOptions {
  kubeconfig: string;
  prometheusUrl: string;
  workDir: string;
  /** Settings from the command line (WORKERS=8, ...). */
  env: Record<string, string>;
  cpuProfileDir?: string;
  /** Where SIGUSR2 makes it write a heap snapshot (see heapSnapshot()). */
  heapSnapshotDir?: string;
}

export interface RunningOperator {
  process: GroupProcess;
  url: string;
  logFile: string;
  tlsLog: string;
  /** Asks the operator for a heap snapshot (written to heapSnapshotDir). */
  heapSnapshot(): void;
  /** The operator's own pid (the node process), while it runs. */
  pid(): number | undefined;
  /** SIGTERM (it finishes in-flight reconciles and exits), then the group is killed after 20 s. */
  stop(): Promise<void>;
}

/** The operator's own pid: the group leader is the supervisor shell, the operator its only child. */
function childPid(supervisor: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${supervisor}/task/${supervisor}/children`, 'utf8').trim();
    const pid = Number(text.split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function startOperator(opts: OperatorOptions): Promise<RunningOperator> {
  const root = projectRoot();
  const [port] = (await freePorts(1)) as [number];
  const logFile = join(opts.workDir, 'operator.log');
  const tlsLog = join(opts.workDir, 'operator-tls.log');
  const preload = pathToFileURL(join(root, 'dist', 'bench', 'scale', 'tls-connections.js')).href;
  const nodeArgs = [
    ...projectImageNodeFlags(root),
    '--import', preload,
    ...(opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : []),
    ...(opts.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${opts.heapSnapshotDir}`] : []),
  ];
  const proc = await spawnGroup('canary-operator', process.execPath, [...nodeArgs, operatorScript(root, opts.cpuProfileDir !== undefined)], {
    logFile,
    cwd: opts.workDir,
    env: {
      ...process.env,
      // As in the image: NODE_OPTIONS (memory flags), MALLOC_ARENA_MAX, NODE_ENV.
      ...projectImageRuntimeEnv(root),
      KUBECONFIG: opts.kubeconfig,
      PROMETHEUS_ADDRESS: opts.prometheusUrl,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      LOG_LEVEL: 'info',
      CANARY_BENCH_TLS_LOG: tlsLog,
      ...opts.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    // Ready once every cache listed; without leader election it reconciles from then on.
    await waitForUrl(`${url}/readyz`, { timeoutMs: 120_000, intervalMs: 200, abortIf: () => (proc.exitStatus() ? `operator exited (${proc.exitStatus()})` : undefined) });
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- operator.log (tail) ---\n${proc.logTail()}`);
  }
  return {
    process: proc, url, logFile, tlsLog,
    heapSnapshot: () => {
      const pid = childPid(proc.pid);
      if (pid !== undefined) process.kill(pid, 'SIGUSR2');
    },
    pid: () => childPid(proc.pid),
    stop: () => proc.stop(20_000),
  };
}
