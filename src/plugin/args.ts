// The command line of `kubectl canary`: a command, a release name and flags,
// in any order (kubectl passes everything after "canary" as is).
import { parseDuration } from '../core/duration.js';
import { UsageError } from './errors.js';

export const COMMANDS = ['status', 'watch', 'list', 'wait', 'pause', 'resume', 'promote', 'abort', 'retry', 'help'] as const;
export type CommandName = (typeof COMMANDS)[number];

export const DEFAULT_WAIT_TIMEOUT_MS = 10 * 60_000;

export interface ParsedArgs {
  command: CommandName;
  /** The release; every command but list and help needs one. */
  name?: string;
  namespace?: string;
  allNamespaces: boolean;
  kubeconfig?: string;
  context?: string;
  timeoutMs: number;
  plain: boolean;
}

const VALUE_FLAGS: Record<string, 'namespace' | 'kubeconfig' | 'context' | 'timeout'> = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '--kubeconfig': 'kubeconfig',
  '--context': 'context',
  '--timeout': 'timeout',
};
const BOOL_FLAGS: Record<string, 'allNamespaces' | 'plain' | 'help'> = {
  '-A': 'allNamespaces',
  '--all-namespaces': 'allNamespaces',
  '--plain': 'plain',
  '-h': 'help',
  '--help': 'help',
};

/** Which command may take which command-specific flag. */
const ONLY_FOR: Record<string, readonly CommandName[]> = {
  timeout: ['wait'],
  plain: ['watch'],
  allNamespaces: ['list'],
};

export function parseTimeout(text: string): number {
  const ms = /^[0-9]+$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === undefined) throw new UsageError(`--timeout: "${text}" is not a duration (use e.g. 90s, 5m, 1h30m)`);
  return ms;
}

/** Parses argv (without node and the script); throws UsageError on anything it cannot use. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const values: Partial<Record<'namespace' | 'kubeconfig' | 'context' | 'timeout', string>> = {};
  const flags = { allNamespaces: false, plain: false, help: false };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const valueFlag = VALUE_FLAGS[flag];
    if (valueFlag) {
      let value: string | undefined;
      if (eq > 0) value = arg.slice(eq + 1);
      else {
        value = argv[i + 1];
        if (value === undefined || (value.startsWith('-') && value.length > 1)) throw new UsageError(`${flag} needs a value`);
        i++;
      }
      if (value === '') throw new UsageError(`${flag} needs a value`);
      values[valueFlag] = value;
      seen.add(valueFlag);
      continue;
    }
    const boolFlag = BOOL_FLAGS[flag];
    if (boolFlag && eq < 0) {
      flags[boolFlag] = true;
      seen.add(boolFlag);
      continue;
    }
    if (boolFlag) throw new UsageError(`${flag} takes no value`);
    // kubectl's own short form -nNAMESPACE
    if (arg.startsWith('-n') && !arg.startsWith('--') && arg.length > 2) {
      values.namespace = arg.slice(2);
      seen.add('namespace');
      continue;
    }
    throw new UsageError(`unknown flag ${flag}`);
  }

  if (flags.help) return { command: 'help', allNamespaces: false, timeoutMs: DEFAULT_WAIT_TIMEOUT_MS, plain: false };
  const [commandText, name, ...extra] = positional;
  if (commandText === undefined) throw new UsageError('no command given');
  if (!(COMMANDS as readonly string[]).includes(commandText)) throw new UsageError(`unknown command "${commandText}"`);
  const command = commandText as CommandName;
  if (command === 'help') return { command, allNamespaces: false, timeoutMs: DEFAULT_WAIT_TIMEOUT_MS, plain: false };

  if (command === 'list') {
    if (name !== undefined) throw new UsageError(`list takes no release name (got "${name}")`);
  } else {
    if (name === undefined) throw new UsageError(`${command} needs the name of a CanaryRelease`);
    if (extra.length) throw new UsageError(`${command} takes one release name; unexpected "${extra.join(' ')}"`);
  }
  for (const [key, commands] of Object.entries(ONLY_FOR)) {
    if (seen.has(key) && !commands.includes(command)) {
      const spelled = key === 'allNamespaces' ? '-A/--all-namespaces' : `--${key}`;
      throw new UsageError(`${spelled} is only for ${commands.join(', ')}`);
    }
  }
  if (flags.allNamespaces && values.namespace !== undefined) throw new UsageError('use either -n/--namespace or -A/--all-namespaces, not both');

  return {
    command,
    ...(name !== undefined ? { name } : {}),
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
    allNamespaces: flags.allNamespaces,
    timeoutMs: values.timeout !== undefined ? parseTimeout(values.timeout) : DEFAULT_WAIT_TIMEOUT_MS,
    plain: flags.plain,
  };
}
