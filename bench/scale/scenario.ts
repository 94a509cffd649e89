// One benchmark run for N releases, on a fresh control plane: the audited
// kube-apiserver, the traffic source, Prometheus with its query log, the
// operator with an identity of its own; N releases created at once; then
// waiting for all to end, an idle period, and collecting what was recorded.
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { auditPolicy } from '../../test/harness/audit-policy.js';
import { startControlPlane, type ControlPlane } from '../../test/harness/control-plane.js';
import { startPrometheus, type RunningPrometheus } from '../../test/harness/prometheus.js';
import { readAuditLog, type AuditRequest } from './audit-log.js';
import { createReleases, createWorkloads } from './cluster-objects.js';
import { readProfile, summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { readHeapSnapshot, summarizeHeap, waitForHeapSnapshot, type HeapSummary } from './heap-snapshot.js';
import { releaseFixtures, WINDOW, type ReleaseFixture } from './fixtures.js';
import { activeAt } from './lags.js';
import { startOperator, type RunningOperator } from './operator-process.js';
import { OperatorSampler, type OperatorSample } from './operator-sampler.js';
import type { BenchOptions } from './options.js';
import { queryWithStats, targetState, waitForScrapes, type QueryStats, type TargetState } from './prometheus-checks.js';
import { queryKind, readQueryLog, type LoggedQuery } from './query-log.js';
import type { ReleaseHistory } from './release-history.js';
import { ReleaseWatch } from './release-watch.js';
import { readTlsLog, type TlsConnection } from './tls-log.js';
import { startTrafficSource, type TrafficSource } from './traffic-source.js';

/** The operator's client certificate CN: its requests in the audit log. */
export const OPERATOR_USER = 'canary-operator-bench';
/** After the last release ended, trailing writes (Events) get this long before the idle period starts. */
export const SETTLE_MS = 5000;

export interface Marks {
  operatorReady: number;
  /** The first CanaryRelease create was sent. */
  creating: number;
  created: number;
  /** The benchmark saw the last release end (or the deadline passed). */
  ended: number;
  /** Idle, sampled every second. */
  idleFrom: number;
  idleTo: number;
  /** Idle, sampled every QUIET_SAMPLE_MS only (as a Prometheus would), so the sampler's own scrapes barely count. */
  quietTo: number;
}

export const QUIET_SAMPLE_MS = 15_000;
/** /metrics while releases run: as often as this benchmark's Prometheus scrapes (RSS and CPU come from /proc every second). */
export const RUN_METRICS_MS = 5_000;

export interface Replay {
  at: number;
  activeReleases: number;
  grouped: { kind: string; stats: QueryStats }[];
  perRelease: { kind: string; stats: QueryStats }[];
}

export interface RunData {
  n: number;
  fixtures: ReleaseFixture[];
  serverVersion: string;
  apiserverPort: number;
  traffic: string;
  scrape: TargetState | undefined;
  histories: ReleaseHistory[];
  audit: AuditRequest[];
  queries: LoggedQuery[];
  tls: TlsConnection[];
  samples: OperatorSample[];
  marks: Marks;
  deadlineHit: boolean;
  setupSeconds: number;
  replay?: Replay;
  profile?: ProfileSummary;
  heap?: { afterSeconds: number; activeReleases: number; summary: HeapSummary };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The grouped queries of one round and the same measurements for one release only, replayed at the busiest round with stats=all. */
async function replay(prometheusUrl: string, queries: readonly LoggedQuery[], histories: readonly ReleaseHistory[], f: ReleaseFixture): Promise<Replay | undefined> {
  const rounds = new Map<number, LoggedQuery[]>();
  for (const q of queries) if (q.query !== 'vector(1)') rounds.set(q.at, [...(rounds.get(q.at) ?? []), q]);
  let best: { at: number; active: number } | undefined;
  for (const at of rounds.keys()) {
    const active = activeAt(histories, at);
    if (!best || active > best.active) best = { at, active };
  }
  if (!best) return undefined;
  const grouped: Replay['grouped'] = [];
  for (const q of new Set(rounds.get(best.at)!.map((q) => q.query))) grouped.push({ kind: queryKind(q), stats: await queryWithStats(prometheusUrl, q, best.at) });
  const one = `reporter="destination",destination_service_namespace="${f.namespace}",destination_service_name="${f.name}"`;
  const perRelease = [
    { kind: 'request counts (one release)', query: `sum by (destination_version, response_code) (increase(istio_requests_total{${one}}[${WINDOW}]))` },
    { kind: 'latency p99 (one release)', query: `histogram_quantile(0.99, sum by (destination_version, le) (rate(istio_request_duration_milliseconds_bucket{${one}}[${WINDOW}])))` },
  ];
  const measured: Replay['perRelease'] = [];
  for (const p of perRelease) measured.push({ kind: p.kind, stats: await queryWithStats(prometheusUrl, p.query, best.at) });
  return { at: best.at, activeReleases: best.active, grouped, perRelease: measured };
}

export async function runScenario(n: number, opts: BenchOptions, log: (line: string) => void): Promise<RunData> {
  const setupStarted = Date.now();
  const fixtures = releaseFixtures(n, opts.namespaces, opts.badEvery);
  const work = await mkdtemp(join(tmpdir(), 'canary-bench-scale-'));
  let cp: ControlPlane | undefined;
  let traffic: TrafficSource | undefined;
  let prom: RunningPrometheus | undefined;
  let operator: RunningOperator | undefined;
  let watch: ReleaseWatch | undefined;
  let sampler: OperatorSampler | undefined;
  try {
    cp = await startControlPlane({
      log: (line) => log(`control plane: ${line}`),
      audit: auditPolicy({ users: [OPERATOR_USER], creates: [{ group: 'canary-operator.dev', resource: 'canaryreleases' }] }),
    });
    const admin = new KubeConfig();
    admin.loadFromFile(cp.kubeconfigPath);
    const operatorKubeconfig = await cp.kubeconfigFor({ user: OPERATOR_USER, groups: ['system:masters'] });
    log(`creating ${n} Services, ${2 * n} Deployments, DestinationRules and VirtualServices in ${Math.min(n, opts.namespaces)} namespaces`);
    await createWorkloads(admin, fixtures);
    traffic = await startTrafficSource({ kubeconfig: cp.kubeconfigPath, workDir: work, fixtures, rps: opts.rps, backgroundServices: opts.backgroundServices });
    prom = await startPrometheus({ targets: [traffic.target], scrapeIntervalSeconds: opts.scrapeIntervalSeconds, queryLog: true, readyTimeoutMs: 60_000 });
    const scrape = await waitForScrapes(prom.url, 2, 120_000);
    log(`Prometheus scrapes the traffic source (last scrape ${scrape.lastScrapeDurationSeconds.toFixed(2)} s)`);
    watch = new ReleaseWatch(admin);
    await watch.start();
    const profileDir = opts.cpuProfile ? join(work, 'profile') : undefined;
    if (profileDir) await mkdir(profileDir);
    const heapDir = opts.heapSnapshotAfterSeconds !== undefined ? join(work, 'heap') : undefined;
    if (heapDir) await mkdir(heapDir);
    operator = await startOperator({
      kubeconfig: operatorKubeconfig, prometheusUrl: prom.url, workDir: work, env: opts.env,
      ...(profileDir ? { cpuProfileDir: profileDir } : {}), ...(heapDir ? { heapSnapshotDir: heapDir } : {}),
    });
    sampler = new OperatorSampler(operator.url, operator.pid);
    sampler.every(1000, RUN_METRICS_MS);
    sampler.start();
    const operatorReady = Date.now();
    // A few idle samples before any release exists.
    await sleep(5000);
    const setupSeconds = (Date.now() - setupStarted) / 1000;

    const creating = Date.now();
    log(`creating ${n} CanaryReleases at once`);
    await createReleases(admin, fixtures, opts.failureLimit);
    const created = Date.now();
    const deadline = creating + opts.deadlineSeconds * 1000;
    let lastReport = 0;
    let heapAsked: { afterSeconds: number; activeReleases: number } | undefined;
    while (watch.ended() < n && Date.now() < deadline) {
      if (opts.heapSnapshotAfterSeconds !== undefined && !heapAsked && Date.now() - creating >= opts.heapSnapshotAfterSeconds * 1000) {
        heapAsked = { afterSeconds: (Date.now() - creating) / 1000, activeReleases: n - watch.ended() };
        log(`asking the operator for a heap snapshot (${heapAsked.activeReleases} releases not ended)`);
        operator.heapSnapshot();
      }
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        log(`${watch.ended()}/${n} releases ended after ${((Date.now() - creating) / 1000).toFixed(0)} s`);
      }
      await sleep(250);
    }
    const deadlineHit = watch.ended() < n;
    const ended = Date.now();
    log(deadlineHit ? `deadline: ${watch.ended()}/${n} ended after ${opts.deadlineSeconds} s` : `all ${n} releases ended after ${((ended - creating) / 1000).toFixed(1)} s; idle for 2 x ${opts.idleSeconds} s`);
    // Idle: /metrics every second first (what such reads cost), then every QUIET_SAMPLE_MS.
    sampler.every(1000);
    const idleFrom = ended + SETTLE_MS;
    const idleTo = idleFrom + opts.idleSeconds * 1000;
    await sleep(idleTo - Date.now());
    sampler.every(QUIET_SAMPLE_MS);
    const quietTo = idleTo + opts.idleSeconds * 1000;
    await sleep(quietTo - Date.now());
    sampler.stop();
    await sampler.sampleNow();
    const scrapeAtEnd = await targetState(prom.url).catch(() => undefined);
    await operator.stop();
    await watch.stop();

    const histories = [...watch.histories.values()];
    const queries = await readQueryLog(prom.queryLogPath!);
    const replayed = await replay(prom.url, queries, histories, fixtures[0]!).catch((err: unknown) => {
      log(`replay failed: ${String(err)}`);
      return undefined;
    });
    const profile = profileDir ? await readProfile(profileDir) : undefined;
    const heapFile = heapDir && heapAsked ? await waitForHeapSnapshot(heapDir, 10_000) : undefined;
    const heap = heapFile && heapAsked ? { ...heapAsked, summary: summarizeHeap(await readHeapSnapshot(heapFile)) } : undefined;
    if (opts.keepDir) {
      const dir = join(opts.keepDir, `n${n}`);
      await mkdir(dir, { recursive: true });
      await Promise.all([
        copyFile(cp.auditLogPath!, join(dir, 'audit.log')),
        copyFile(prom.queryLogPath!, join(dir, 'query.log')),
        copyFile(operator.logFile, join(dir, 'operator.log')),
        copyFile(operator.tlsLog, join(dir, 'operator-tls.log')).catch(() => undefined),
        profileDir ? copyProfile(profileDir, dir) : Promise.resolve(),
        heapFile ? copyFile(heapFile, join(dir, 'operator.heapsnapshot')) : Promise.resolve(),
        writeFile(join(dir, 'operator-samples.json'), JSON.stringify(sampler.samples)),
        writeFile(join(dir, 'releases.json'), JSON.stringify([...watch.histories.values()])),
      ]);
      log(`logs kept in ${dir}`);
    }
    const data: RunData = {
      n, fixtures, serverVersion: cp.serverVersion, apiserverPort: Number(new URL(cp.server).port), traffic: traffic.description, scrape: scrapeAtEnd ?? scrape,
      histories, audit: await readAuditLog(cp.auditLogPath!), queries, tls: await readTlsLog(operator.tlsLog), samples: sampler.samples,
      marks: { operatorReady, creating, created, ended, idleFrom, idleTo, quietTo }, deadlineHit, setupSeconds,
    };
    if (replayed) data.replay = replayed;
    if (profile) data.profile = summarizeProfile(profile);
    if (heap) data.heap = heap;
    return data;
  } finally {
    sampler?.stop();
    await watch?.stop().catch(() => undefined);
    await operator?.stop();
    await prom?.stop();
    await traffic?.stop();
    await cp?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function copyProfile(from: string, to: string): Promise<void> {
  for (const f of await readdir(from)) await copyFile(join(from, f), join(to, f));
}
