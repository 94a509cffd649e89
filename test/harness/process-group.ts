import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface GroupProcess {
  readonly name: string;
  /** The group leader (the supervisor); also the process group id. */
  readonly pid: number;
  readonly logFile: string;
  /** Set once the server has exited: its exit code (128+N for signal N) or the signal that killed the supervisor. */
  exitStatus(): string | undefined;
  /** The last `lines` lines of the log file. */
  logTail(lines?: number): string;
  /** SIGTERM to the server, then SIGKILL to the whole group after `graceMs`. Safe to call twice. */
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
  for (const pid of live) signal(pid, 'SIGKILL', true);
});

/** Signals one process, or with group=true the whole group led by `pid`. */
function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // ESRCH: already gone.
  }
}

// The group leader is this small bash supervisor, not the server itself:
// Node runs no 'exit' handlers when a signal kills it (Ctrl-C on jest), and a
// detached group would then outlive it. The supervisor polls its parent and
// stops the server (TERM, then KILL after 5s) once the parent is gone. It
// forwards TERM and exits with the server's status; `wait -n` wakes it as
// soon as the server exits, not on the next poll.
const SUPERVISOR = `
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
orphaned=0
while kill -0 "$child" 2>/dev/null; do
  if ! kill -0 "$PPID" 2>/dev/null; then
    orphaned=$((orphaned + 1))
    if [ "$orphaned" -gt 5 ]; then kill -KILL "$child"; else kill -TERM "$child"; fi 2>/dev/null
  fi
  sleep 1 & wait -n
done
wait "$child"
`;

/**
 * Starts `command` in a new process group (under a supervisor that stops it
 * if this Node process dies), stdout and stderr appended to `logFile`.
 */
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
  const child = spawn('/bin/bash', ['-c', SUPERVISOR, name, command, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    // detached = setsid(): own process group, so one kill reaches any children too.
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.once('exit', (code, signal) => {
    status = signal ?? `exit code ${code ?? '?'}`;
    if (child.pid !== undefined) live.delete(child.pid);
    exited();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: no pid after spawn`);
  if (status === undefined) live.add(pid);
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
      // TERM to the supervisor only: it forwards one TERM. A second one would
      // make kube-apiserver skip its graceful shutdown.
      if (status === undefined) signal(pid, 'SIGTERM', false);
      await exitedWithin(graceMs);
      // Also catches grandchildren left behind after the leader exited.
      signal(pid, 'SIGKILL', true);
      await exitedWithin(1000);
    },
  };
}
