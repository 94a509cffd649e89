// kubectl-canary: a kubectl plugin (`kubectl canary ...`) to watch and steer
// CanaryReleases. bin/kubectl-canary imports this file and exits with the
// code main() returns.
import { parseArgs, type ParsedArgs } from './args.js';
import { actionCommand, listCommand, statusCommand } from './commands.js';
import { processIo, type CommandContext, type Io } from './context.js';
import { ExitCode, UsageError, describeError } from './errors.js';
import { loadKubeConfig, resolveNamespace } from './kube-config.js';
import { KubeReleaseApi } from './kube-release-api.js';
import type { ReleaseApi } from './release-api.js';
import { terminalSafeApi } from './terminal-text.js';
import { USAGE } from './usage.js';
import { waitCommand } from './wait.js';
import { watchCommand } from './watch.js';

export interface MainDeps {
  io?: Io;
  /** The cluster port and the namespace to use; the default reads the kubeconfig. */
  connect?: (args: ParsedArgs) => { api: ReleaseApi; namespace: string };
  signal?: AbortSignal;
}

function connect(args: ParsedArgs): { api: ReleaseApi; namespace: string } {
  const kc = loadKubeConfig({ kubeconfig: args.kubeconfig, context: args.context });
  return { api: new KubeReleaseApi(kc), namespace: resolveNamespace(kc, args.namespace) };
}

export async function main(argv: readonly string[], deps: MainDeps = {}): Promise<number> {
  const io = deps.io ?? processIo();
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`error: ${err.message}\nSee 'kubectl canary --help' for usage.`);
    return ExitCode.Error;
  }
  if (args.command === 'help') {
    io.out(USAGE.trimEnd());
    return ExitCode.Ok;
  }

  let namespace = args.namespace;
  try {
    const conn = (deps.connect ?? connect)(args);
    namespace = conn.namespace;
    // Every string read from the cluster is made terminal-safe before any renderer sees it.
    const ctx: CommandContext = { api: terminalSafeApi(conn.api), io, namespace: conn.namespace };
    const name = args.name as string;
    switch (args.command) {
      case 'status':
        return await statusCommand(ctx, name);
      case 'list':
        return await listCommand(ctx, args.allNamespaces);
      case 'wait':
        return await waitCommand(ctx, name, { timeoutMs: args.timeoutMs, ...(deps.signal ? { signal: deps.signal } : {}) });
      case 'watch':
        return await watchCommand(ctx, name, { plain: args.plain, ...(deps.signal ? { signal: deps.signal } : {}) });
      default:
        return await actionCommand(ctx, args.command, name);
    }
  } catch (err) {
    const action = ['pause', 'resume', 'promote', 'abort', 'retry'].includes(args.command) ? args.command : 'get';
    io.err(`error: ${describeError(err, { namespace: args.allNamespaces ? undefined : namespace, name: args.name, action })}`);
    return ExitCode.Error;
  }
}

/** The process entry: Ctrl-C ends a watch cleanly (exit 130). */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    // watch and wait stop at their next tick; anything still hanging (a slow request) ends here.
    setTimeout(() => process.exit(130), 2000).unref();
  });
  const code = await main(argv, { signal: controller.signal });
  process.exit(code);
}
