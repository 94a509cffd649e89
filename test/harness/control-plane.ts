import { existsSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { buildControlPlaneBinaries } from './binaries.js';
import { applyCrds, readCrdFiles, waitForCrdsEstablished } from './crds.js';
import { startEtcd, type RunningEtcd } from './etcd.js';
import { gatewayApiCrdFiles, gatewayApiCrdsDir } from './gateway-api-crds.js';
import { freePorts } from './free-port.js';
import { writeAuditPolicy, type AuditPolicy } from './audit-policy.js';
import { startKubeApiserver, type RunningKubeApiserver } from './kube-apiserver.js';
import { writeKubeconfig } from './kubeconfig.js';
import { generatePki, issueClientCertificate, type ClientIdentity, type Pki } from './pki.js';
import { projectRoot } from './project-root.js';
import { makeWorkDir } from './work-dir.js';

export interface ControlPlane {
  kubeconfigPath: string;
  /** https://127.0.0.1:PORT, or the external cluster's server URL. */
  server: string;
  /** gitVersion from /version, e.g. v1.34.4. */
  serverVersion: string;
  /** True when CANARY_TEST_KUBECONFIG pointed at an existing cluster. */
  external: boolean;
  /** Holds kubeconfig, certificates, etcd data and logs; for an external cluster, the kubeconfig's directory (never removed). */
  workDir: string;
  /** The audit log (JSON lines), when started with `audit`. */
  auditLogPath?: string;
  /**
   * A kubeconfig (in workDir) for a client certificate of its own, so that
   * client's requests can be told apart (in the audit log). Local control
   * plane only.
   */
  kubeconfigFor(identity: ClientIdentity): Promise<string>;
  /** Stops etcd and kube-apiserver and removes workDir; does nothing for an external cluster. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Istio CRDs to install; default: env ISTIO_CRDS_FILE, else the project's trimmed copy. */
  istioCrdsFile?: string;
  /** Directory of Gateway API CRD files to install; default: env GATEWAY_API_CRDS_DIR, else the pinned standard channel from the cache. */
  gatewayApiCrdsDir?: string;
  /** Progress lines; default: stderr. */
  log?: (line: string) => void;
  /** Runs kube-apiserver with this audit policy (see audit-policy.ts), logging to workDir/audit.log. Local control plane only. */
  audit?: AuditPolicy;
}

const defaultLog = (line: string) => process.stderr.write(`[control-plane] ${line}\n`);

/** The project's own CRDs (every YAML file in crds/), the Istio CRDs and the Gateway API CRDs. */
async function crdFiles(root: string, opts: StartOptions, log: (line: string) => void): Promise<string[]> {
  const dir = join(root, 'crds');
  const own = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(dir, f))
    : [];
  if (own.length === 0) log('no CRDs in crds/ yet: installing only the Istio CRDs');
  const istio = resolve(
    opts.istioCrdsFile || process.env.ISTIO_CRDS_FILE || join(root, 'scripts', 'control-plane', 'istio-crds.yaml'),
  );
  const gatewayApi = gatewayApiCrdFiles(await gatewayApiCrdsDir(root, log, opts.gatewayApiCrdsDir));
  return [...own, istio, ...gatewayApi];
}

/** File names for the log, with the Gateway API's many files as one entry. */
function summarise(files: readonly string[]): string {
  const names = files.map((f) => f.split('/').pop()!);
  const isGatewayApi = (n: string) => n.startsWith('gateway.networking.k8s.io_');
  const gatewayApi = names.filter(isGatewayApi).length;
  return [...names.filter((n) => !isGatewayApi(n)), ...(gatewayApi > 0 ? [`${gatewayApi} Gateway API files`] : [])].join(', ');
}

/** Installs the CRDs and returns the server's version. */
async function prepareCluster(kc: KubeConfig, files: string[], log: (line: string) => void): Promise<string> {
  const crds = await readCrdFiles(files);
  await applyCrds(kc, crds);
  await waitForCrdsEstablished(
    kc,
    crds.map((c) => c.metadata!.name!),
  );
  log(`${crds.length} CRDs established (${summarise(files)})`);
  const version = await kc.makeApiClient(VersionApi).getCode();
  return version.gitVersion;
}

async function useExternalCluster(kubeconfigPath: string, files: string[], log: (line: string) => void): Promise<ControlPlane> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error(`${kubeconfigPath}: current context has no cluster server`);
  const serverVersion = await prepareCluster(kc, files, log);
  log(`using external cluster ${server} (kube-apiserver ${serverVersion}) from ${kubeconfigPath}`);
  return {
    kubeconfigPath,
    server,
    serverVersion,
    external: true,
    workDir: dirname(kubeconfigPath),
    kubeconfigFor: () => Promise.reject(new Error('kubeconfigFor needs the local control plane (CANARY_TEST_KUBECONFIG is set)')),
    stop: async () => {},
  };
}

/** Issues a client certificate for `identity` and writes a kubeconfig using it next to the admin's. */
async function identityKubeconfig(workDir: string, server: string, pki: Pki, identity: ClientIdentity): Promise<string> {
  const { cert, key } = await issueClientCertificate(pki, identity);
  const path = join(workDir, `kubeconfig-${identity.user.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  const [caPem, clientCertPem, clientKeyPem] = await Promise.all([readFile(pki.servingCaCert, 'utf8'), readFile(cert, 'utf8'), readFile(key, 'utf8')]);
  await writeKubeconfig(path, { server, caPem, clientCertPem, clientKeyPem, name: identity.user });
  return path;
}

async function startLocal(root: string, files: string[], log: (line: string) => void, policy: AuditPolicy | undefined): Promise<ControlPlane> {
  const bins = await buildControlPlaneBinaries(root, log);
  const started = Date.now();
  const workDir = await makeWorkDir('canary-cp-', log);
  let etcd: RunningEtcd | undefined;
  let apiserver: RunningKubeApiserver | undefined;
  let stopped: Promise<void> | undefined;
  // If Node exits without stop() (crash, process.exit), process-group's own
  // exit hook kills the servers; this one removes their files.
  const removeOnExit = () => rmSync(workDir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  // Apiserver first, so it does not log etcd connection errors while dying.
  const stop = () =>
    (stopped ??= (async () => {
      await apiserver?.process.stop();
      await etcd?.process.stop();
      await rm(workDir, { recursive: true, force: true });
      process.removeListener('exit', removeOnExit);
    })());
  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    // etcd starts while openssl works: neither needs the other.
    const [pkiResult, etcdResult] = await Promise.allSettled([
      generatePki(join(workDir, 'pki')),
      startEtcd({ binary: bins.etcd, workDir, clientPort: etcdClientPort, peerPort: etcdPeerPort }),
    ]);
    if (etcdResult.status === 'fulfilled') etcd = etcdResult.value;
    if (pkiResult.status === 'rejected') throw pkiResult.reason;
    if (etcdResult.status === 'rejected') throw etcdResult.reason;
    const pki = pkiResult.value;
    const etcdUrl = etcdResult.value.url;
    let audit: { policyFile: string; logPath: string } | undefined;
    if (policy) {
      audit = { policyFile: join(workDir, 'audit-policy.json'), logPath: join(workDir, 'audit.log') };
      await writeAuditPolicy(audit.policyFile, policy);
    }
    apiserver = await startKubeApiserver({ binary: bins.kubeApiserver, workDir, pki, etcdUrl, port: apiPort, ...(audit ? { audit } : {}) });
    const kubeconfigPath = join(workDir, 'kubeconfig');
    const [caPem, clientCertPem, clientKeyPem] = await Promise.all([
      readFile(pki.servingCaCert, 'utf8'),
      readFile(pki.adminCert, 'utf8'),
      readFile(pki.adminKey, 'utf8'),
    ]);
    await writeKubeconfig(kubeconfigPath, { server: apiserver.server, caPem, clientCertPem, clientKeyPem, name: 'canary-test' });
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const serverVersion = await prepareCluster(kc, files, log);
    log(`kube-apiserver ${serverVersion} ready at ${apiserver.server} (${((Date.now() - started) / 1000).toFixed(1)}s, work dir ${workDir})`);
    const server = apiserver.server;
    return {
      kubeconfigPath, server, serverVersion, external: false, workDir, stop,
      ...(audit ? { auditLogPath: audit.logPath } : {}),
      kubeconfigFor: (identity) => identityKubeconfig(workDir, server, pki, identity),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A real kube-apiserver + etcd with the project's, Istio's and the Gateway
 * API's CRDs installed, or the cluster named by CANARY_TEST_KUBECONFIG (CRDs
 * still refreshed).
 */
export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? defaultLog;
  const root = projectRoot();
  const files = await crdFiles(root, opts, log);
  const external = process.env.CANARY_TEST_KUBECONFIG;
  if (external) {
    // Set but missing is a typo, not a request for a local cluster.
    if (!existsSync(external)) throw new Error(`CANARY_TEST_KUBECONFIG=${external}: no such file`);
    if (opts.audit) throw new Error('an audit log needs the local control plane: unset CANARY_TEST_KUBECONFIG');
    return useExternalCluster(external, files, log);
  }
  return startLocal(root, files, log, opts.audit);
}
