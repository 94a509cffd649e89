import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface GroupProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Set once the process has exited: exit code or signal name. */
  exitStatus(): string | undefined;
  /** The last `lines` lines of the log file. */
  logTail(lines?: number): string;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnGroupOptions {
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

// Groups still running when Node exits (crash, process.exit) are killed here,
// because a detached group outlives its parent.
const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Starts `command` as the leader of a new process group, stdout and stderr appended to `logFile`. */
export async function spawnGroup(
  name: string,
  command: string,
  args: readonly string[],
  opts: SpawnGroupOptions,
): Promise<GroupProcess> {
  const fd = openSync(opts.logFile, 'a');
  let status: string | undefined;
  let exited!: () => void;
  const exitedPromise = new Promise<void>((resolve) => (exited = resolve));
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    // detached = setsid(): own process group, so one kill reaches any children too.
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: no pid after spawn`);
  live.add(pid);
  child.once('exit', (code, signal) => {
    status = signal ?? `exit code ${code ?? '?'}`;
    live.delete(pid);
    exited();
  });
  // The harness must not keep Node (e.g. jest) alive just because a server runs.
  child.unref();

  // A referenced timer, cleared on exit: keeps Node alive for the grace period only.
  const exitedWithin = async (ms: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exitedPromise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  };
  return {
    name,
    pid,
    logFile: opts.logFile,
    exitStatus: () => status,
    logTail(lines = 40) {
      try {
        return readFileSync(opts.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
    async stop(graceMs = 5000) {
      if (status === undefined) killGroup(pid, 'SIGTERM');
      await exitedWithin(graceMs);
      // Also catches grandchildren left behind after the leader exited.
      killGroup(pid, 'SIGKILL');
      await exitedWithin(1000);
    },
  };
}
