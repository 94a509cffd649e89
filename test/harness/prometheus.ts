// A real Prometheus for tests and demos: the system's prometheus binary
// (Debian: apt-get install prometheus), a generated config scraping the given
// targets every second, a throwaway TSDB, loopback only, its own process group.
//
//   const prom = await startPrometheus({ targets: [sim.target] });
//   ... query prom.url (see prometheus-query.ts) ...
//   await prom.down();   // an outage: the process stops, port and data stay
//   await prom.up();     // back on the same port with the same data
//   await prom.stop();   // for good: the work dir is removed
//
// startPrometheus({ port }) starts a fresh one on a given port (e.g. after
// stop(), to stand in for a replaced Prometheus at the same address).
import { accessSync, constants, existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePorts } from './free-port.js';
import { spawnGroup, type GroupProcess } from './process-group.js';
import { waitForUrl } from './wait-for-url.js';

export interface PrometheusOptions {
  /** Scrape targets, host:port (path /metrics). */
  targets: string[];
  /** Scrape and rule evaluation interval; default 1. */
  scrapeIntervalSeconds?: number;
  /** Listen port on 127.0.0.1; default: a free one. */
  port?: number;
  /** job label of the scraped series; default "mesh". */
  jobName?: string;
  /** Binary; default: env PROMETHEUS_BINARY, /usr/bin/prometheus, then `prometheus` on PATH. */
  binary?: string;
  /** How long to wait for /-/ready; default 30 s. */
  readyTimeoutMs?: number;
  /** Logs every query with Prometheus' own stats (timings, samples touched) to workDir/query.log (queryLogPath). */
  queryLog?: boolean;
}

export interface RunningPrometheus {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Holds prometheus.yml, data/ and prometheus.log (until stop()). */
  workDir: string;
  /** The query log (JSON lines, one per query), when started with queryLog. */
  queryLogPath?: string;
  /** Whether the server process is up (between up() and down()). */
  running(): boolean;
  /** The end of prometheus.log, for failure messages. */
  logTail(lines?: number): string;
  /** Stops the process (SIGTERM, then SIGKILL), keeping port and data for up(). */
  down(): Promise<void>;
  /** Starts the process again on the same port with the same data; waits for /-/ready. */
  up(): Promise<void>;
  /** down() then up(). */
  restart(): Promise<void>;
  /** Stops the process and removes the work dir. Safe to call twice. */
  stop(): Promise<void>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The prometheus binary, or an error saying how to install it. */
export function findPrometheusBinary(explicit?: string): string {
  const wanted = explicit ?? process.env.PROMETHEUS_BINARY;
  if (wanted) {
    if (!isExecutable(wanted)) throw new Error(`prometheus binary ${wanted} does not exist or is not executable`);
    return wanted;
  }
  const candidates = ['/usr/bin/prometheus', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'prometheus'))];
  const found = candidates.find((p) => existsSync(p) && isExecutable(p));
  if (!found) {
    throw new Error(
      'prometheus not found (looked at /usr/bin/prometheus and PATH): install it with `sudo apt-get install prometheus` ' +
        '(or set PROMETHEUS_BINARY to a prometheus 2.x binary)',
    );
  }
  return found;
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`prometheus: cannot listen on 127.0.0.1:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** The generated prometheus.yml (JSON is valid YAML). */
export function prometheusConfig(opts: Pick<PrometheusOptions, 'targets' | 'scrapeIntervalSeconds' | 'jobName'> & { queryLogFile?: string }): string {
  const every = `${opts.scrapeIntervalSeconds ?? 1}s`;
  return `${JSON.stringify(
    {
      global: { scrape_interval: every, scrape_timeout: every, evaluation_interval: every, ...(opts.queryLogFile ? { query_log_file: opts.queryLogFile } : {}) },
      scrape_configs: [{ job_name: opts.jobName ?? 'mesh', metrics_path: '/metrics', static_configs: [{ targets: opts.targets }] }],
    },
    null,
    2,
  )}\n`;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = findPrometheusBinary(opts.binary);
  const port = opts.port ?? (await freePorts(1))[0]!;
  const url = `http://127.0.0.1:${port}`;
  const workDir = await mkdtemp(join(tmpdir(), 'canary-prometheus-'));
  const configFile = join(workDir, 'prometheus.yml');
  const dataDir = join(workDir, 'data');
  const logFile = join(workDir, 'prometheus.log');
  const queryLogPath = opts.queryLog ? join(workDir, 'query.log') : undefined;
  await mkdir(dataDir);
  await writeFile(configFile, prometheusConfig({ ...opts, ...(queryLogPath ? { queryLogFile: queryLogPath } : {}) }));
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1d',
    // Debian's defaults point at /etc/prometheus and /usr/share; keep everything in the work dir.
    `--web.console.templates=${join(workDir, 'consoles')}`,
    `--web.console.libraries=${join(workDir, 'console_libraries')}`,
    '--web.enable-lifecycle',
  ];

  let proc: GroupProcess | undefined;
  let stopped: Promise<void> | undefined;
  const up = async () => {
    if (stopped) throw new Error('prometheus: up() after stop()');
    if (proc && proc.exitStatus() === undefined) return;
    // Otherwise /-/ready could be answered by whoever holds the port.
    await assertPortFree(port);
    const p = await spawnGroup('prometheus', binary, args, { logFile, cwd: workDir });
    proc = p;
    try {
      await waitForUrl(`${url}/-/ready`, {
        timeoutMs: opts.readyTimeoutMs ?? 30_000,
        intervalMs: 100,
        abortIf: () => (p.exitStatus() ? `prometheus exited (${p.exitStatus()})` : undefined),
      });
    } catch (err) {
      await p.stop();
      throw new Error(`${(err as Error).message}\n--- prometheus.log (tail) ---\n${p.logTail()}`);
    }
  };
  const down = async () => {
    await proc?.stop();
  };
  // If Node exits without stop(), process-group's exit hook kills the server; this removes its files.
  const removeOnExit = () => rmSync(workDir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  try {
    await up();
  } catch (err) {
    await rm(workDir, { recursive: true, force: true });
    process.removeListener('exit', removeOnExit);
    throw err;
  }
  return {
    url,
    port,
    workDir,
    ...(queryLogPath ? { queryLogPath } : {}),
    running: () => proc !== undefined && proc.exitStatus() === undefined,
    logTail: (lines?: number) => proc?.logTail(lines) ?? '(not started)',
    down,
    up,
    restart: async () => {
      await down();
      await up();
    },
    stop: () =>
      (stopped ??= (async () => {
        await down();
        await rm(workDir, { recursive: true, force: true });
        process.removeListener('exit', removeOnExit);
      })()),
  };
}
