// startSimulator: watches the hosts' HTTPRoutes and VirtualServices (and what
// else shapes their traffic), generates requests every tick and serves them
// as Istio metrics; writes the status of the HTTPRoutes it follows, as Istio's
// controller would. Used in-process by tests and by the CLI (main.ts). In the
// static mode the same plans drive counts that grow at their rates instead
// (static-traffic.ts), served with unrelated background services if asked.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { BackgroundServices } from './background-services.js';
import { DEFAULTS, validateOptions, type HostConfig, type LogRecord, type SimulatorMode, type SimulatorOptions } from './config.js';
import { startMetricsServer, type ChunkedExposition } from './http-server.js';
import { IstioMetrics } from './istio-metrics.js';
import { MeshWatcher } from './kube-watch.js';
import { randomSeed } from './rng.js';
import { RouteStatusWriter } from './route-status-writer.js';
import { CONTENT_TYPE, renderExposition, type ExpositionSource } from './static-exposition.js';
import { StaticTraffic } from './static-traffic.js';
import { TrafficEngine, type HostPlan } from './traffic.js';

export interface RunningSimulator {
  port: number;
  address: string;
  /** http://ADDRESS:PORT */
  url: string;
  /** host:port, as a Prometheus scrape target. */
  target: string;
  seed: number;
  mode: SimulatorMode;
  /** The requests mode's registry (empty in the static mode). */
  metrics: IstioMetrics;
  /** Current plans (with the route each host follows) and request counts (also served at /state). */
  snapshot(): ReturnType<TrafficEngine['snapshot']>;
  /** HTTPRoute status writes so far (0 with routeStatus off). */
  routeStatusWrites(): number;
  /** Stops traffic, the watches and the HTTP server. Safe to call twice. */
  stop(): Promise<void>;
}

/** A tick backlog longer than this (the event loop was blocked) is dropped, not replayed as a burst. */
const MAX_CATCH_UP_TICKS = 50;

const LEVELS = { debug: 0, info: 1, warn: 2, silent: 3 } as const;

function makeLog(opts: SimulatorOptions) {
  const min = LEVELS[opts.logLevel ?? DEFAULTS.logLevel];
  const sink = opts.logger ?? ((r: LogRecord) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...r })}\n`));
  return (level: LogRecord['level'], msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] >= min) sink({ level, msg, ...fields });
  };
}

/** A compact description of a plan for logs. */
export function describePlan(plan: HostPlan): unknown[] {
  return plan.entries.map((e) => ({
    share: Math.round(e.share * 1000) / 1000,
    service: e.service.name,
    ...(e.routeName !== undefined ? { route: e.routeName } : {}),
    ...(e.subset !== undefined ? { subset: e.subset } : {}),
    ...(e.destination ? { workload: e.destination.workload, version: e.destination.version } : {}),
    ...(e.behaviour ? { errorRate: e.behaviour.errorRate, p50: e.behaviour.latencyMs.p50, p99: e.behaviour.latencyMs.p99 } : {}),
    ...(e.failure ? { fails: `${e.failure.code} ${e.failure.flags}` } : {}),
  }));
}

/** The given kubeconfig, else client-node's defaults (KUBECONFIG, ~/.kube/config, in-cluster); never its silent localhost:8080 fallback. */
function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) {
    kc.loadFromFile(path);
    return kc;
  }
  if (!process.env.KUBECONFIG && !existsSync(join(homedir(), '.kube', 'config')) && !process.env.KUBERNETES_SERVICE_HOST) {
    throw new Error('no kubeconfig: set KUBECONFIG or pass --kubeconfig (option kubeconfig)');
  }
  kc.loadFromDefault();
  return kc;
}

export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  validateOptions(opts);
  const log = makeLog(opts);
  const seed = opts.seed ?? randomSeed();
  const tickMs = opts.tickMs ?? DEFAULTS.tickMs;
  const kc = loadKubeConfig(opts.kubeconfig);

  const watcher = new MeshWatcher({
    kubeConfig: kc,
    namespaces: opts.hosts.map((h) => h.namespace),
    istioApiVersion: opts.istioApiVersion ?? DEFAULTS.istioApiVersion,
    gatewayApi: opts.gatewayApi ?? DEFAULTS.gatewayApi,
    log,
  });
  await watcher.start(opts.syncTimeoutMs ?? DEFAULTS.syncTimeoutMs);
  const statusWriter =
    (opts.gatewayApi ?? DEFAULTS.gatewayApi) && (opts.routeStatus ?? DEFAULTS.routeStatus)
      ? new RouteStatusWriter({ hosts: opts.hosts, view: watcher, onChange: (l) => watcher.onChange(l), custom: kc.makeApiClient(CustomObjectsApi), log })
      : undefined;

  const metrics = new IstioMetrics();
  const lastProblems = new Map<HostConfig, string>();
  const engine = new TrafficEngine({
    hosts: opts.hosts,
    seed,
    view: watcher,
    metrics,
    tickMs,
    ...(opts.matchShare !== undefined ? { matchShare: opts.matchShare } : {}),
    ...(opts.defaultBehaviour ? { defaultBehaviour: opts.defaultBehaviour } : {}),
    ...(opts.configMapName ? { configMapName: opts.configMapName } : {}),
    ...(opts.clusterDomain ? { clusterDomain: opts.clusterDomain } : {}),
    onPlanChange: (host, plan) => {
      log('info', 'traffic plan', {
        host: `${host.namespace}/${host.service}`,
        route: plan.route ? `${plan.route.kind} ${plan.route.name}` : null,
        virtualService: plan.virtualService ?? null,
        dataplane: plan.dataplane.mode === 'ambient' ? `ambient, ${plan.dataplane.waypoint ? `waypoint ${plan.dataplane.waypoint.namespace}/${plan.dataplane.waypoint.name}` : 'no waypoint'}` : 'sidecar',
        plan: describePlan(plan),
      });
      const problems = plan.problems.join('\n');
      if (problems && problems !== lastProblems.get(host)) log('warn', 'configuration problems', { host: `${host.namespace}/${host.service}`, problems: plan.problems });
      lastProblems.set(host, problems);
    },
  });

  const mode = opts.mode ?? 'requests';
  const staticTraffic = mode === 'static' ? new StaticTraffic(() => engine.snapshot().hosts, Date.now()) : undefined;
  const sources: ExpositionSource[] = staticTraffic ? [staticTraffic] : [];
  if (opts.background) sources.push(new BackgroundServices(opts.background, Date.now()));
  const exposition: ChunkedExposition | undefined = staticTraffic && {
    contentType: CONTENT_TYPE,
    chunks: () => {
      const now = Date.now();
      staticTraffic.advanceTo(now);
      return renderExposition(sources, now);
    },
  };
  const snapshot = () => {
    const snap = engine.snapshot();
    if (!staticTraffic) return snap;
    return { ...snap, hosts: snap.hosts.map((h) => ({ ...h, requests: staticTraffic.requests(`${h.namespace}/${h.service}`) })) };
  };

  let server;
  try {
    server = await startMetricsServer({ address: opts.address ?? DEFAULTS.address, port: opts.port ?? DEFAULTS.port, metrics, state: snapshot, ...(exposition ? { exposition } : {}) });
  } catch (err) {
    await watcher.stop();
    throw err;
  }
  statusWriter?.start();

  // Ticks are counted from the start, so a late timer catches up instead of slowing the rate.
  const started = performance.now();
  let done = 0;
  const timer = staticTraffic ? setInterval(() => staticTraffic.advanceTo(Date.now()), tickMs) : setInterval(() => {
    const due = Math.floor((performance.now() - started) / tickMs);
    let n = due - done;
    if (n > MAX_CATCH_UP_TICKS) {
      log('warn', 'event loop stalled; dropping ticks', { dropped: n - MAX_CATCH_UP_TICKS });
      done += n - MAX_CATCH_UP_TICKS;
      n = MAX_CATCH_UP_TICKS;
    }
    if (n > 0) engine.tick(n);
    done += n;
  }, tickMs);

  const address = opts.address ?? DEFAULTS.address;
  const hostPart = address.includes(':') ? `[${address}]` : address;
  let stopped: Promise<void> | undefined;
  log('info', 'simulating', { port: server.port, seed, mode, hosts: opts.hosts.length <= 20 ? opts.hosts.map((h) => `${h.namespace}/${h.service}:${h.rps}`) : `${opts.hosts.length} hosts`, ...(opts.background ? { background: opts.background } : {}) });
  return {
    port: server.port,
    address,
    url: `http://${hostPart}:${server.port}`,
    target: `${hostPart}:${server.port}`,
    seed,
    mode,
    metrics,
    snapshot,
    routeStatusWrites: () => statusWriter?.writes ?? 0,
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        await statusWriter?.stop();
        await Promise.all([watcher.stop(), server.close()]);
      })()),
  };
}
