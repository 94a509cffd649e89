#!/usr/bin/env node
// The operator's entrypoint: configuration, logging, the controller, the
// health/metrics server, and a clean shutdown on SIGTERM/SIGINT.
import { hostname } from 'node:os';
import { ApisApi, CoordinationV1Api } from '@kubernetes/client-node';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { AnalysisRunner } from './analysis/analysis-runner.js';
import { CachedQuerier } from './analysis/prometheus/cached-querier.js';
import { PrometheusClient } from './analysis/prometheus/client.js';
import { loadConfig } from './config.js';
import { Controller, type ControllerHooks } from './controller/controller.js';
import { OperatorKubeConfig, makeApiClient } from './kube/api-clients.js';
import { LeaderElector } from './kube/leader-election.js';
import { within } from './util/within.js';
import { OperatorMetrics } from './metrics/operator-metrics.js';
import { InstrumentedQuerier } from './analysis/prometheus/instrumented-querier.js';
import { startHttpServer } from './http-server.js';
import { servedApiGroups } from './kube/served-api-groups.js';
import { providerFactories } from './traffic/registry.js';
import { createLogger, exitAfterLogs } from './log.js';

/** How long an exit after a lost lease waits for its last log lines. */
const LAST_LINES_MS = 200;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger(config.LOG_LEVEL);
  // Every client made from it: request timeout, one keep-alive agent, fieldManager=canary-operator.
  const kc = new OperatorKubeConfig({ requestTimeoutMs: config.KUBE_API_TIMEOUT_SECONDS * 1000 });
  kc.loadFromDefault();
  const instance = config.POD_NAME ?? `${hostname()}-${process.pid}`;
  log.info({ server: kc.getCurrentCluster()?.server, instance }, 'canary-operator starting');

  const registry = new Registry();
  // The event-loop lag is sampled every 250 ms, not prom-client's 10 ms: 100 wake-ups a second cost an idle
  // operator about 0.4 CPU-s a minute (bench:scale's idle figure), for a finer lag histogram it does not need.
  collectDefaultMetrics({ register: registry, prefix: 'canary_operator_', eventLoopMonitoringPrecision: 250 });
  let controller: Controller | undefined;
  let elector: LeaderElector | undefined;
  let metrics: OperatorMetrics | undefined;
  // The per-release text follows the registry's: right in the Prometheus text format it writes (in OpenMetrics it would follow # EOF).
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) throw new Error(`metrics registry writes ${registry.contentType}, not the Prometheus text format`);
  const exposition = { contentType: registry.contentType, text: async () => (await registry.metrics()) + (metrics?.releaseSeriesText() ?? '') };
  const http = await startHttpServer({ host: config.HTTP_HOST, port: config.HTTP_PORT, metrics: exposition, ready: () => controller?.synced ?? false });
  log.info({ port: http.port }, 'serving /healthz, /readyz and /metrics');

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: finishing in-flight reconciles');
    const force = setTimeout(() => {
      log.warn('shutdown took too long; exiting');
      exitAfterLogs(log, 1);
    }, 15_000);
    force.unref();
    await controller?.stop();
    await elector?.stop();
    http.server.close();
    log.info('stopped');
    exitAfterLogs(log, 0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  // The traffic providers whose APIs the cluster serves; at least one must be, or there is nothing to route.
  const providers = providerFactories({ istioApiVersion: config.ISTIO_API_VERSION });
  const served = await retryUntil(log, 'discover the traffic APIs the cluster serves', async () => {
    const found = await servedApiGroups(kc.makeApiClient(ApisApi));
    const problems = providers.map((p) => p.problem(found));
    if (problems.every((p) => p !== undefined)) throw new Error(problems.join('; '));
    return found;
  });
  const prometheus = new InstrumentedQuerier(new PrometheusClient(), {
    observe: (seconds, result) => {
      metrics?.queryDuration.observe({ outcome: result.ok ? 'ok' : 'error' }, seconds);
      if (!result.ok) metrics?.queryErrors.inc({ kind: result.kind });
    },
  });
  // One cache for every release and interval: results are keyed by their round's evaluation time.
  const querier = new CachedQuerier(prometheus, { ttlMs: 60_000 });
  const hooks: ControllerHooks = {};
  const ctl = new Controller({
    kubeConfig: kc, log, namespaces: config.namespaces, providers, served, workers: config.WORKERS,
    relistMs: config.RELIST_SECONDS * 1000, instance,
    analysis: new AnalysisRunner(querier),
    analysisConcurrency: { total: config.ANALYSIS_CONCURRENCY, perAddress: config.ANALYSIS_CONCURRENCY_PER_ADDRESS },
    defaultPrometheusAddress: config.PROMETHEUS_ADDRESS,
    allowedPrometheusAddresses: config.allowedPrometheusAddresses,
    hooks,
  });
  controller = ctl;
  metrics = new OperatorMetrics(registry, () => ctl.listReleases(), () => ctl.queue.depth);
  Object.assign(hooks, metrics.hooks());
  await ctl.startCaches();
  if (shuttingDown) return;

  if (config.LEADER_ELECT === 'false') {
    metrics.leader.set(1);
    ctl.startWorkers();
    return;
  }
  const leaseMs = config.LEASE_DURATION_SECONDS * 1000;
  const renewDeadlineMs = Math.round(leaseMs * 2 / 3);
  // Short enough that a hung Lease call leaves time for another try before the renew deadline.
  const leaseCallTimeoutMs = Math.min(config.KUBE_API_TIMEOUT_SECONDS * 1000, Math.floor(renewDeadlineMs / 2));
  elector = new LeaderElector({
    api: makeApiClient(kc, CoordinationV1Api, { requestTimeoutMs: leaseCallTimeoutMs }),
    namespace: config.LEASE_NAMESPACE ?? config.POD_NAMESPACE ?? 'default',
    name: config.LEASE_NAME,
    identity: instance,
    leaseDurationMs: leaseMs,
    renewDeadlineMs,
    retryPeriodMs: Math.max(500, Math.round(leaseMs / 7.5)),
    callTimeoutMs: leaseCallTimeoutMs,
    log,
    onStartedLeading: () => {
      metrics?.leader.set(1);
      ctl.startWorkers();
    },
    exitReserveMs: LAST_LINES_MS,
    onStoppedLeading: (drainMs) => {
      // Like controller-runtime: a replica that lost the lease exits, and its restart rejoins as a standby.
      metrics?.leader.set(0);
      log.error('leadership lost; exiting so that only the new leader reconciles');
      // No reconcile starts any more. The ones in flight finish and their Events go out (a step's Event is not
      // lost with the process) while the elector says a standby cannot lead yet; then the last lines.
      void within(ctl.stop(), drainMs).then(() => exitAfterLogs(log, 1, LAST_LINES_MS));
    },
  });
  metrics.leader.set(0);
  elector.start();
}

/** Startup calls the API server may not answer yet; keep trying, saying why. */
async function retryUntil<T>(log: ReturnType<typeof createLogger>, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay }, `could not ${what}; retrying`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

main().catch((err: unknown) => {
  // Only startup can end here (bad configuration or kubeconfig); reconcile errors never do.
  console.error(JSON.stringify({ level: 'fatal', msg: 'canary-operator could not start', err: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
