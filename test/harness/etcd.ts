import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnGroup, type GroupProcess } from './process-group.js';
import { waitForUrl } from './wait-for-url.js';

export interface EtcdOptions {
  binary: string;
  workDir: string;
  clientPort: number;
  peerPort: number;
  timeoutMs?: number;
}

export interface RunningEtcd {
  process: GroupProcess;
  url: string;
}

/** Starts a single-member etcd on loopback with a throwaway data dir and waits until it is healthy. */
export async function startEtcd(opts: EtcdOptions): Promise<RunningEtcd> {
  const url = `http://127.0.0.1:${opts.clientPort}`;
  const peer = `http://127.0.0.1:${opts.peerPort}`;
  const dataDir = join(opts.workDir, 'etcd-data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const proc = await spawnGroup(
    'etcd',
    opts.binary,
    [
      '--name=test',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=test=${peer}`,
      '--initial-cluster-state=new',
      // Test data is disposable: skipping fsync makes writes cheap on slow disks.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    { logFile: join(opts.workDir, 'etcd.log'), cwd: opts.workDir },
  );
  try {
    await waitForUrl(`${url}/health`, {
      timeoutMs: opts.timeoutMs ?? 30_000,
      abortIf: () => (proc.exitStatus() ? `etcd exited (${proc.exitStatus()})` : undefined),
    });
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- etcd.log (tail) ---\n${proc.logTail()}`);
  }
  return { process: proc, url };
}
