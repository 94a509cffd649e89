// Simulator options: the library's types and defaults, and the CLI's flags.
//
//   node dist/tools/mesh-simulator/main.js --host NS/SERVICE:RPS[:MATCH_SHARE] [--host ...]
//       [--port 0] [--address 127.0.0.1] [--seed N] [--match-share 0.1] [--tick-ms 100]
//       [--kubeconfig PATH] [--istio-api-version v1] [--configmap mesh-simulator]
//       [--source-workload productpage-v1] [--cluster-domain cluster.local] [--log-level info]
//       [--no-gateway-api] [--no-route-status]
//       [--mode requests|static] [--background-services N] [--background-versions N] [--background-rps F]
import { parseArgs } from 'node:util';
import type { BackgroundOptions } from './background-services.js';
import type { BehaviourPatch } from './behaviour.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'silent';

/**
 * requests: every request is drawn (status, latency) and counted with Istio's
 * full label set, both reporters. static: counts grow at the plans' rates
 * without per-request work, compact labels, reporter="destination" only; it
 * carries thousands of hosts, and unrelated background services.
 */
export type SimulatorMode = 'requests' | 'static';

/** Who sends the simulated requests: the source_* labels. */
export interface SourceConfig {
  workload?: string;
  /** Default: the host's namespace. */
  namespace?: string;
  app?: string;
  version?: string;
  serviceAccount?: string;
}

export interface HostConfig {
  /** Namespace of the Service and of the HTTPRoute / VirtualService / DestinationRule / ConfigMap read for it. */
  namespace: string;
  /** The Service (mesh host) name, e.g. "reviews". */
  service: string;
  /** Requests per second sent to the host. */
  rps: number;
  /** Chance that a request matches an HTTP route's `match` block (each such route in turn); default: the simulator's matchShare. */
  matchShare?: number;
  source?: SourceConfig;
}

export interface SimulatorOptions {
  hosts: HostConfig[];
  /** A kubeconfig path; default: KUBECONFIG, ~/.kube/config or in-cluster (client-node's loadFromDefault). */
  kubeconfig?: string;
  /** Port for /metrics; 0 (default) picks a free one. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  address?: string;
  /** PRNG seed; default: random (reported in the ready line and by the handle). */
  seed?: number;
  /** Default matchShare for hosts that set none; default 0. */
  matchShare?: number;
  /** Traffic is generated in ticks of this length; default 100 ms. */
  tickMs?: number;
  /** networking.istio.io version to read; default v1. */
  istioApiVersion?: string;
  /** Watch gateway.networking.k8s.io/v1 HTTPRoutes and follow those attached to a host's Service (needs the Gateway API CRDs); default true. */
  gatewayApi?: boolean;
  /** Write status.parents (Accepted, ResolvedRefs) on the HTTPRoutes followed, as Istio's controller does; default true. Off: routes stay without status, as with no mesh controller. */
  routeStatus?: boolean;
  /** Name of the behaviour ConfigMap looked up in each host's namespace; default mesh-simulator. */
  configMapName?: string;
  /** Behaviour of subsets nothing else configures; default no errors, p50 20 ms, p99 200 ms. */
  defaultBehaviour?: BehaviourPatch;
  clusterDomain?: string;
  /** How long to wait for the first list of every watched kind; default 30 s. */
  syncTimeoutMs?: number;
  logLevel?: LogLevel;
  /** Receives log records (default: JSON lines on stderr). */
  logger?: (record: LogRecord) => void;
  /** Default requests. */
  mode?: SimulatorMode;
  /** Static mode only: unrelated services served beside the hosts (see background-services.ts). */
  background?: BackgroundOptions;
}

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  msg: string;
  [field: string]: unknown;
}

export const DEFAULTS = {
  port: 0,
  address: '127.0.0.1',
  matchShare: 0,
  tickMs: 100,
  istioApiVersion: 'v1',
  gatewayApi: true,
  routeStatus: true,
  configMapName: 'mesh-simulator',
  clusterDomain: 'cluster.local',
  syncTimeoutMs: 30_000,
  logLevel: 'info' as LogLevel,
  source: { workload: 'productpage-v1', app: 'productpage', version: 'v1', serviceAccount: 'bookinfo-productpage' },
};

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function share(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${what} must be between 0 and 1, got ${value}`);
  return value;
}

/** Checks options a caller may get wrong; throws with the first problem. */
export function validateOptions(opts: SimulatorOptions): void {
  if (opts.hosts.length === 0) throw new Error('at least one host is required');
  const seen = new Set<string>();
  for (const h of opts.hosts) {
    const key = `${h.namespace}/${h.service}`;
    if (!NAME.test(h.namespace) || !NAME.test(h.service)) throw new Error(`host ${key}: namespace and service must be DNS labels`);
    if (!Number.isFinite(h.rps) || h.rps < 0) throw new Error(`host ${key}: rps must be a number >= 0, got ${h.rps}`);
    if (h.matchShare !== undefined) share(h.matchShare, `host ${key}: matchShare`);
    if (seen.has(key)) throw new Error(`host ${key} given twice`);
    seen.add(key);
  }
  if (opts.matchShare !== undefined) share(opts.matchShare, 'matchShare');
  if (opts.tickMs !== undefined && !(opts.tickMs >= 10)) throw new Error(`tickMs must be >= 10, got ${opts.tickMs}`);
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new Error(`seed must be an integer, got ${opts.seed}`);
  if (opts.mode !== undefined && opts.mode !== 'requests' && opts.mode !== 'static') throw new Error(`mode must be requests or static, got ${String(opts.mode)}`);
  if (opts.background && opts.mode !== 'static') throw new Error('background services need the static mode');
  const bg = opts.background;
  if (bg && (!Number.isInteger(bg.services) || bg.services < 0)) throw new Error(`background services must be a whole number >= 0, got ${bg.services}`);
  if (bg?.versions !== undefined && (!Number.isInteger(bg.versions) || bg.versions < 1)) throw new Error(`background versions must be a whole number >= 1, got ${bg.versions}`);
  if (bg?.rps !== undefined && !(Number.isFinite(bg.rps) && bg.rps >= 0)) throw new Error(`background rps must be a number >= 0, got ${bg.rps}`);
}

/** Parses NS/SERVICE:RPS[:MATCH_SHARE], e.g. prod/reviews:50 or prod/reviews:50:0.1. */
export function parseHost(spec: string): HostConfig {
  const m = /^([^/:]+)\/([^/:]+):([0-9.]+)(?::([0-9.]+))?$/.exec(spec);
  if (!m) throw new Error(`--host ${spec}: expected NAMESPACE/SERVICE:RPS[:MATCH_SHARE], e.g. prod/reviews:50`);
  const host: HostConfig = { namespace: m[1]!, service: m[2]!, rps: Number(m[3]) };
  if (m[4] !== undefined) host.matchShare = share(Number(m[4]), `--host ${spec}: match share`);
  return host;
}

export const USAGE = `usage: node dist/tools/mesh-simulator/main.js --host NS/SERVICE:RPS[:MATCH_SHARE] [--host ...] [options]

Simulates Istio's metrics for the hosts' traffic, split by their HTTPRoutes or
VirtualServices (watched on the API server), reported by sidecars or, in
ambient namespaces, a waypoint, and serves them at /metrics.
Prints one JSON line {"event":"ready","port":...} on stdout when serving; SIGTERM/SIGINT stop it.

  --host NS/SERVICE:RPS[:MATCH_SHARE]  e.g. prod/reviews:50 (repeatable)
  --port N                 listen port (default 0: any free port)
  --address ADDR           listen address (default 127.0.0.1)
  --seed N                 PRNG seed (default random, printed in the ready line)
  --match-share F          share of requests matching each route's match block (default 0)
  --tick-ms N              traffic tick (default 100)
  --kubeconfig PATH        default: KUBECONFIG, ~/.kube/config, or in-cluster
  --istio-api-version V    networking.istio.io version to watch (default v1)
  --configmap NAME         behaviour ConfigMap name (default mesh-simulator)
  --source-workload NAME   source_workload of the simulated client (default productpage-v1)
  --cluster-domain D       default cluster.local
  --no-gateway-api         do not watch HTTPRoutes (for clusters without the Gateway API CRDs)
  --no-route-status        do not write HTTPRoute status (as if no mesh controller ran)
  --log-level L            debug | info | warn | silent (default info; logs go to stderr)
  --mode M                 requests (default: every request drawn, full Istio labels, both reporters) or
                           static (counts at the plans' rates, compact labels, reporter="destination" only;
                           for thousands of hosts)
  --background-services N  static mode: also serve N unrelated services (namespaces mesh-NNN, services svc-NNNN)
  --background-versions N  versions per background service (default 2)
  --background-rps F       requests per second per background service (default 10)`;

/** CLI flags to options; throws with a message for the user on bad input. */
export function parseCli(argv: string[]): SimulatorOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string', multiple: true },
      port: { type: 'string' },
      address: { type: 'string' },
      seed: { type: 'string' },
      'match-share': { type: 'string' },
      'tick-ms': { type: 'string' },
      kubeconfig: { type: 'string' },
      'istio-api-version': { type: 'string' },
      configmap: { type: 'string' },
      'source-workload': { type: 'string' },
      'cluster-domain': { type: 'string' },
      'log-level': { type: 'string' },
      'no-gateway-api': { type: 'boolean' },
      'no-route-status': { type: 'boolean' },
      mode: { type: 'string' },
      'background-services': { type: 'string' },
      'background-versions': { type: 'string' },
      'background-rps': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const int = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`--${flag}: expected a non-negative integer, got ${v}`);
    return Number(v);
  };
  const sourceWorkload = values['source-workload'];
  const hosts = (values.host ?? []).map(parseHost).map((h) => (sourceWorkload ? { ...h, source: { workload: sourceWorkload } } : h));
  const level = values['log-level'];
  if (level !== undefined && !['debug', 'info', 'warn', 'silent'].includes(level)) throw new Error(`--log-level: expected debug, info, warn or silent`);
  const opts: SimulatorOptions = { hosts };
  const port = int('port', values.port);
  if (port !== undefined) opts.port = port;
  const seed = int('seed', values.seed);
  if (seed !== undefined) opts.seed = seed;
  const tickMs = int('tick-ms', values['tick-ms']);
  if (tickMs !== undefined) opts.tickMs = tickMs;
  if (values['match-share'] !== undefined) opts.matchShare = Number(values['match-share']);
  if (values.address !== undefined) opts.address = values.address;
  if (values.kubeconfig !== undefined) opts.kubeconfig = values.kubeconfig;
  if (values['istio-api-version'] !== undefined) opts.istioApiVersion = values['istio-api-version'];
  if (values.configmap !== undefined) opts.configMapName = values.configmap;
  if (values['cluster-domain'] !== undefined) opts.clusterDomain = values['cluster-domain'];
  if (level !== undefined) opts.logLevel = level as LogLevel;
  if (values['no-gateway-api']) opts.gatewayApi = false;
  if (values['no-route-status']) opts.routeStatus = false;
  if (values.mode !== undefined) opts.mode = values.mode as SimulatorMode;
  const services = int('background-services', values['background-services']);
  const versions = int('background-versions', values['background-versions']);
  const bgRps = values['background-rps'];
  if (services === undefined && (versions !== undefined || bgRps !== undefined)) throw new Error('--background-versions and --background-rps need --background-services');
  if (services !== undefined) {
    opts.background = { services };
    if (versions !== undefined) opts.background.versions = versions;
    if (bgRps !== undefined) opts.background.rps = Number(bgRps);
  }
  validateOptions(opts);
  return opts;
}
