// Runs the real operator entrypoint (the built bundle the image runs, dist/operator.js) as a child
// process against the e2e control plane, and lets a test kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { operatorEntrypoint } from '../../harness/project-root.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
export const OPERATOR_ENTRY = operatorEntrypoint(ROOT);

export interface OperatorProcess {
  child: ChildProcess;
  logs: string[];
  port: () => number | undefined;
  /** Resolves once the operator reconciles (its caches synced and, with leader election, it leads). */
  ready: () => Promise<void>;
  /** Whether it has logged that it reconciles. */
  leading: () => boolean;
  /** Resolves once its caches synced (a standby replica gets this far). */
  synced: () => Promise<void>;
  kill: (signal?: NodeJS.Signals) => Promise<number | null>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The operators this test process started, one pid a line (each test file has its own modules, not its own process). */
const PID_FILE = join(tmpdir(), `canary-e2e-operators-${process.pid}`);

/**
 * Kills operators that earlier test files left running (a test that failed
 * before its own kill): they watch every namespace and would reconcile the
 * next file's releases too. support/cleanup.ts calls it before each file.
 */
export function stopLeftoverOperators(): number {
  let pids: number[] = [];
  try {
    pids = readFileSync(PID_FILE, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  rmSync(PID_FILE, { force: true });
  let stopped = 0;
  for (const pid of pids) {
    try {
      // Only if the pid is still our operator (a pid can be reused once its process is gone).
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(OPERATOR_ENTRY)) continue;
      process.kill(pid, 'SIGKILL');
      stopped++;
    } catch {
      // Already gone, as it should be.
    }
  }
  return stopped;
}

export function startOperator(env: Record<string, string> = {}): OperatorProcess {
  const child = spawn(process.execPath, [OPERATOR_ENTRY], {
    env: { ...process.env, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'debug', RELIST_SECONDS: '60', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) appendFileSync(PID_FILE, `${child.pid}\n`);
  const logs: string[] = [];
  // E2E_OPERATOR_LOG_DIR keeps each operator's whole log in a file (for a failure that output to a terminal hides).
  const logFile = process.env.E2E_OPERATOR_LOG_DIR ? createWriteStream(join(process.env.E2E_OPERATOR_LOG_DIR, `operator-${child.pid}.log`)) : undefined;
  // A directory that cannot be written costs the file, not the test run (an unhandled 'error' would end it).
  logFile?.on('error', (err) => process.stderr.write(`E2E_OPERATOR_LOG_DIR: ${err.message}; this operator's log is not kept\n`));
  let port: number | undefined;
  const waiters: (() => void)[] = [];
  let synced = false;
  let cachesSynced = false;
  const syncWaiters: (() => void)[] = [];
  // One buffer per stream: a chunk may end mid-line (the logger writes many lines at once).
  const buffers = { stdout: '', stderr: '' };
  const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    buffers[stream] += chunk.toString();
    let nl: number;
    while ((nl = buffers[stream].indexOf('\n')) >= 0) {
      const line = buffers[stream].slice(0, nl);
      buffers[stream] = buffers[stream].slice(nl + 1);
      logs.push(line);
      if (process.env.E2E_OPERATOR_LOGS) process.stderr.write(`[operator ${child.pid}] ${line}\n`);
      logFile?.write(`${line}\n`);
      try {
        const rec = JSON.parse(line) as { msg?: string; port?: number };
        if (rec.msg?.startsWith('serving /healthz')) port = rec.port;
        if (rec.msg?.startsWith('caches synced')) {
          cachesSynced = true;
          syncWaiters.splice(0).forEach((w) => w());
        }
        if (rec.msg === 'reconciling') {
          synced = true;
          waiters.splice(0).forEach((w) => w());
        }
      } catch {
        // not JSON: kept in logs as is
      }
    }
  };
  child.once('exit', () => logFile?.end());
  child.stdout?.on('data', onData('stdout'));
  child.stderr?.on('data', onData('stderr'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    logs,
    port: () => port,
    leading: () => synced,
    synced: () =>
      new Promise<void>((resolve, reject) => {
        if (cachesSynced) return resolve();
        const timer = setTimeout(() => reject(new Error(`operator caches not synced after 30s; logs:\n${logs.slice(-20).join('\n')}`)), 30_000);
        syncWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    ready: () =>
      new Promise<void>((resolve, reject) => {
        if (synced) return resolve();
        const timer = setTimeout(() => reject(new Error(`operator not ready after 30s; logs:\n${logs.slice(-20).join('\n')}`)), 30_000);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
        void exited.then(({ code }) => reject(new Error(`operator exited (${code}) before it was ready; logs:\n${logs.slice(-20).join('\n')}`)));
      }),
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return (await exited).code;
    },
    exited,
  };
}
