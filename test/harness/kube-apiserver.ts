import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pki } from './pki.js';
import { spawnGroup, type GroupProcess } from './process-group.js';
import { waitForUrl } from './wait-for-url.js';

export interface KubeApiserverOptions {
  binary: string;
  workDir: string;
  pki: Pki;
  etcdUrl: string;
  port: number;
  timeoutMs?: number;
  /** Writes an audit log: the policy file (see audit-policy.ts) and where the JSON lines go. */
  audit?: { policyFile: string; logPath: string };
}

export interface RunningKubeApiserver {
  process: GroupProcess;
  server: string;
}

/** envtest's flag set, plus --advertise-address (otherwise it looks for a default-route interface), plus the audit log if asked. */
export function apiserverArgs(opts: KubeApiserverOptions, server: string): string[] {
  const { pki } = opts;
  const audit = opts.audit
    ? [
        `--audit-policy-file=${opts.audit.policyFile}`,
        `--audit-log-path=${opts.audit.logPath}`,
        // One file for the whole run, written as requests complete (no batching delay).
        '--audit-log-maxsize=0',
        '--audit-log-mode=blocking',
        '--audit-log-format=json',
      ]
    : [];
  return [
    `--etcd-servers=${opts.etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${opts.port}`,
    `--cert-dir=${pki.dir}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.clientCaCert}`,
    `--service-account-issuer=${server}/`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    // The "kubernetes" Service cannot get a loopback endpoint (it logs an error
    // every 10s), and no pod runs here to use it.
    '--endpoint-reconciler-type=none',
    // RBAC is enforced so tests can prove the operator's ClusterRole is enough.
    '--authorization-mode=RBAC',
    // No controller-manager mints tokens, so pods must not require one.
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    ...audit,
  ];
}

/** Starts kube-apiserver against `etcdUrl` and waits for /readyz, authenticating as admin. */
export async function startKubeApiserver(opts: KubeApiserverOptions): Promise<RunningKubeApiserver> {
  const server = `https://127.0.0.1:${opts.port}`;
  const proc = await spawnGroup('kube-apiserver', opts.binary, apiserverArgs(opts, server), {
    logFile: join(opts.workDir, 'kube-apiserver.log'),
    cwd: opts.workDir,
  });
  const [ca, cert, key] = await Promise.all([
    readFile(opts.pki.servingCaCert),
    readFile(opts.pki.adminCert),
    readFile(opts.pki.adminKey),
  ]);
  try {
    await waitForUrl(`${server}/readyz`, {
      timeoutMs: opts.timeoutMs ?? 120_000,
      tls: { ca, cert, key },
      abortIf: () => (proc.exitStatus() ? `kube-apiserver exited (${proc.exitStatus()})` : undefined),
    });
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- kube-apiserver.log (tail) ---\n${proc.logTail()}`);
  }
  return { process: proc, server };
}
