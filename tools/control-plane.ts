#!/usr/bin/env node
// Starts a local kube-apiserver + etcd with the project's and Istio's CRDs for
// manual work against a real API server; tears it down on Ctrl-C.
import { startControlPlane } from '../test/harness/control-plane.js';

const USAGE = `usage: node dist/tools/control-plane.js up [--istio-crds FILE]

  up    start etcd + kube-apiserver, install CRDs, print the kubeconfig path,
        and run until SIGINT/SIGTERM; then stop both and delete the work dir.

  --istio-crds FILE  Istio CRDs to install (default: env ISTIO_CRDS_FILE, else
                     scripts/control-plane/istio-crds.yaml)
  env CANARY_TEST_KUBECONFIG=PATH  use that cluster instead (CRDs only)`;

function parseArgs(argv: string[]): { istioCrdsFile?: string } | undefined {
  const [command, ...rest] = argv;
  if (command !== 'up') return undefined;
  const opts: { istioCrdsFile?: string } = {};
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--istio-crds' && rest[i + 1]) opts.istioCrdsFile = rest[++i];
    else return undefined;
  }
  return opts;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const cp = await startControlPlane(opts);
  // stdout carries only what a script may want to capture; progress went to stderr.
  process.stdout.write(`kubeconfig: ${cp.kubeconfigPath}\nexport KUBECONFIG=${cp.kubeconfigPath}\n`);
  process.stderr.write(`[control-plane] ${cp.external ? 'external cluster: nothing to stop' : 'running'}; Ctrl-C to stop\n`);
  // Signal listeners alone do not keep Node alive (the servers' handles are
  // unref'd), so hold the event loop open with a timer until a signal comes.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  clearInterval(keepAlive);
  process.stderr.write(`[control-plane] ${signal}: stopping\n`);
  // A second signal means "now": the exit hook in process-group SIGKILLs what is left.
  const forceExit = () => process.exit(130);
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  await cp.stop();
  process.stderr.write('[control-plane] stopped\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[control-plane] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
