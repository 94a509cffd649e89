// The benchmark's command line. Every figure that shapes the load has a flag,
// and the operator's own settings pass through --env.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Release counts to run, each on a fresh control plane and operator. */
  counts: number[];
  namespaces: number;
  /** Every badEvery-th canary answers 20% 503s. */
  badEvery: number;
  /** Requests per second per release host. */
  rps: number;
  backgroundServices: number;
  scrapeIntervalSeconds: number;
  failureLimit: number;
  /** How long to measure after every release ended. */
  idleSeconds: number;
  /** How long releases may take, from their creation, before the run gives up on the rest. */
  deadlineSeconds: number;
  /** Operator environment overrides (WORKERS=8, ...). */
  env: Record<string, string>;
  cpuProfile: boolean;
  /** Seconds after the releases' creation at which the operator writes a heap snapshot (summarized in the output). */
  heapSnapshotAfterSeconds?: number;
  /** Copy the audit log, query log, operator log and profile here before teardown. */
  keepDir?: string;
}

export const USAGE = `usage: npm run bench:scale -- [--quick] [--n 10,100,1000] [options]

  --quick                 N = 10 only
  --n LIST                release counts, comma-separated (default 10,100,1000)
  --namespaces N          namespaces the releases are spread over (default 10)
  --bad-every N           every Nth canary answers 20% 503s (default 10)
  --rps F                 requests per second per release host (default 40)
  --background-services N unrelated services, 2 versions each (default 5000)
  --scrape-interval S     Prometheus scrape interval in seconds (default 5)
  --failure-limit N       the releases' analysis.failureLimit (default 3, the operator's default)
  --idle-seconds S        measuring time after every release ended, twice: /metrics read every second, then every 15 s (default 60)
  --deadline-seconds S    give up on releases not ended this long after creation (default 1800)
  --env KEY=VALUE         operator setting, repeatable (e.g. --env WORKERS=8 --env ANALYSIS_CONCURRENCY=16)
  --cpu-prof              run the operator (unbundled: dist/src/main.js) with --cpu-prof and print where its CPU went
  --heap-snapshot-after S have the operator write a heap snapshot S seconds after the releases' creation, and print what it holds
  --keep DIR              keep the audit log, query log, operator log, profile and heap snapshot in DIR`;

/** The operator's settings the benchmark lets through (see the README's settings table). */
const OPERATOR_SETTINGS = new Set([
  'LOG_LEVEL', 'WORKERS', 'ANALYSIS_CONCURRENCY', 'ANALYSIS_CONCURRENCY_PER_ADDRESS', 'RELIST_SECONDS',
  'LEADER_ELECT', 'LEASE_NAME', 'LEASE_NAMESPACE', 'LEASE_DURATION_SECONDS', 'POD_NAME', 'POD_NAMESPACE', 'ISTIO_API_VERSION', 'WATCH_NAMESPACES',
]);

function positive(flag: string, text: string | undefined, fallback: number, integer = true): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${flag}: expected a positive ${integer ? 'whole ' : ''}number, got ${text}`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      n: { type: 'string' },
      namespaces: { type: 'string' },
      'bad-every': { type: 'string' },
      rps: { type: 'string' },
      'background-services': { type: 'string' },
      'scrape-interval': { type: 'string' },
      'failure-limit': { type: 'string' },
      'idle-seconds': { type: 'string' },
      'deadline-seconds': { type: 'string' },
      env: { type: 'string', multiple: true },
      'cpu-prof': { type: 'boolean' },
      'heap-snapshot-after': { type: 'string' },
      keep: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values.quick && values.n !== undefined) throw new Error('--quick and --n: choose one');
  const counts = values.quick ? [10] : (values.n ?? '10,100,1000').split(',').map((s) => positive('n', s.trim(), 0));
  const env: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const m = /^([A-Z_]+)=(.*)$/.exec(pair);
    if (!m) throw new Error(`--env ${pair}: expected KEY=VALUE`);
    if (!OPERATOR_SETTINGS.has(m[1]!)) throw new Error(`--env ${m[1]}: not an operator setting the benchmark lets through (${[...OPERATOR_SETTINGS].join(', ')})`);
    env[m[1]!] = m[2]!;
  }
  const backgroundServices = values['background-services'] === '0' ? 0 : positive('background-services', values['background-services'], 5000);
  const opts: BenchOptions = {
    counts,
    namespaces: positive('namespaces', values.namespaces, 10),
    badEvery: positive('bad-every', values['bad-every'], 10),
    rps: positive('rps', values.rps, 40, false),
    backgroundServices,
    scrapeIntervalSeconds: positive('scrape-interval', values['scrape-interval'], 5),
    failureLimit: positive('failure-limit', values['failure-limit'], 3),
    idleSeconds: positive('idle-seconds', values['idle-seconds'], 60),
    deadlineSeconds: positive('deadline-seconds', values['deadline-seconds'], 1800),
    env,
    cpuProfile: values['cpu-prof'] ?? false,
  };
  if (values.keep !== undefined) opts.keepDir = values.keep;
  if (values['heap-snapshot-after'] !== undefined) opts.heapSnapshotAfterSeconds = positive('heap-snapshot-after', values['heap-snapshot-after'], 0);
  return opts;
}
