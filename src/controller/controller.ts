// The imperative shell around the reconciler: informers feed a keyed work
// queue (events only enqueue keys), workers reconcile, and the result decides
// when a key is looked at again.
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi,
  type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Deployment, type V1Service,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION } from '../api/names.js';
import { isActive } from '../api/conditions.js';
import { DeploymentWorkloadProbe, cachedDeployment } from '../kube/deployment-workload-probe.js';
import { cachedService } from '../kube/cached-service.js';
import { cachedCustomObject, cachedRelease } from '../kube/cached-strings.js';
import { BackgroundEventRecorder } from '../kube/background-events.js';
import { KubeEventRecorder } from '../kube/event-recorder.js';
import { KubeReleaseStore } from '../kube/release-store.js';
import { ResilientInformer, type ChangeVerb, type ListPage } from '../kube/resilient-informer.js';
import { Watched } from '../kube/watched.js';
import { apiMessage } from '../kube/errors.js';
import { ProviderRouter } from '../traffic/provider-router.js';
import type { ProviderContext, ProviderFactory, TrafficProvider } from '../traffic/provider.js';
import { ConflictError, type AnalysisProvider, type CanaryReleaseObject } from './ports.js';
import { Reconciler } from './reconciler.js';
import { WorkQueue } from './work-queue.js';
import { namedBy, type NamedObjects } from './named-routes.js';
import { ReferenceIndex } from './reference-index.js';
import type { Decision } from '../core/decide.js';
import { RoundScheduler, lookFirstAt } from '../analysis/round-scheduler.js';
import { WatchedServices } from '../analysis/watched-services.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  namespaces: string[];
  /** The traffic providers to start (traffic/registry.ts), and the API groups the cluster serves. */
  providers: ProviderFactory[];
  served: ReadonlyMap<string, readonly string[]>;
  workers: number;
  relistMs: number;
  instance: string;
  /** Runs analysis rounds; without it, releases with gates hold before their first step. */
  analysis?: AnalysisProvider | undefined;
  /** Rounds in flight at once, overall and per Prometheus address (beside the workers). */
  analysisConcurrency?: { total: number; perAddress: number } | undefined;
  defaultPrometheusAddress?: string | undefined;
  allowedPrometheusAddresses?: string[] | undefined;
  hooks?: ControllerHooks;
}

/** Observability hooks (metrics); all optional. */
export interface ControllerHooks {
  reconciled?: (durationMs: number, outcome: 'ok' | 'conflict' | 'error') => void;
  decided?: (release: CanaryReleaseObject, decision: Decision) => void;
  informerRestarted?: (informer: string) => void;
  releaseDeleted?: (key: string) => void;
}

type Obj = KubernetesObject & { spec?: Record<string, unknown> };

export class Controller {
  /**
   * Releases naming one route are reconciled one at a time (route-ownership.ts); releases of other routes,
   * in the same namespace or not, meanwhile. A release's routes: its spec's, and its status's target and
   * replaced route (what the reconcile reads them from, read the same way).
   */
  readonly queue = new WorkQueue({ groupOf: (key) => this.routeGroupsOf(key) });
  private readonly store: KubeReleaseStore;
  private readonly releases: Watched<CanaryReleaseObject>;
  private readonly informers: Watched<KubernetesObject>[];
  private readonly reconciler: Reconciler;
  private readonly events: BackgroundEventRecorder;
  private readonly router: ProviderRouter;
  /** The work-queue groups of each release, kept per resourceVersion (asked on every queue move, changed rarely). */
  private readonly groupsByRelease = new Map<string, { rv: string | undefined; groups: readonly string[] }>();
  /** The cached releases that refer to each object ("ns/Kind/name"). */
  private readonly referrers = new ReferenceIndex();
  /** Analysis rounds in flight or waiting (for metrics). */
  readonly rounds: RoundScheduler | undefined;
  private workers: Promise<void>[] = [];
  private stopping = false;

  constructor(private readonly opts: ControllerOptions) {
    const kc = opts.kubeConfig;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const watch = <T extends KubernetesObject>(name: string, path: (ns?: string) => string, list: (ns: string | undefined, page: ListPage) => Promise<unknown>, onChange: (o: T, verb: ChangeVerb) => void, transform?: (o: T) => T) =>
      new Watched<T>(opts.namespaces, (ns) =>
        new ResilientInformer<T>({
          kubeConfig: kc, name, log: opts.log, path: path(ns), relistEveryMs: opts.relistMs, onChange, transform,
          list: (page) => list(ns, page) as Promise<KubernetesListObject<T>>,
          onRestart: (name) => opts.hooks?.informerRestarted?.(name),
        }),
      );
    const crPath = (group: string, version: string, plural: string) => (ns?: string) =>
      ns ? `/apis/${group}/${version}/namespaces/${ns}/${plural}` : `/apis/${group}/${version}/${plural}`;
    const crList = (group: string, version: string, plural: string) => (ns: string | undefined, page: ListPage) =>
      ns ? custom.listNamespacedCustomObject({ group, version, plural, namespace: ns, ...page }) : custom.listClusterCustomObject({ group, version, plural, ...page });

    this.releases = watch<CanaryReleaseObject>('canaryreleases', crPath(GROUP, VERSION, PLURAL), crList(GROUP, VERSION, PLURAL), (o, verb) => {
      const refs = this.referencesOf(o).map((r) => `${o.metadata?.namespace}/${r}`);
      // The routes it named until now too: a release that stops naming one (a restore done) frees it for the others.
      const named = new Set([...this.referrers.refsOf(keyOf(o)), ...refs]);
      this.referrers.set(keyOf(o), verb === 'delete' ? [] : refs);
      if (verb === 'delete') {
        this.groupsByRelease.delete(keyOf(o));
        opts.hooks?.releaseDeleted?.(keyOf(o));
      }
      // Keys queue up only on the leader; a standby just keeps its cache warm.
      if (!this.workers.length) return;
      this.queue.add(keyOf(o));
      // Releases waiting for this one's route look again when it changes or goes.
      for (const ref of named) this.wakeReferrers(ref);
    }, cachedRelease);
    const deployments = watch<V1Deployment & KubernetesObject>('deployments',
      (ns) => (ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments'),
      (ns, page) => (ns ? apps.listNamespacedDeployment({ namespace: ns, ...page }) : apps.listDeploymentForAllNamespaces(page)),
      (o) => this.enqueueWaiting(o.metadata?.namespace), cachedDeployment);
    const services = watch<V1Service & KubernetesObject>('services',
      (ns) => (ns ? `/api/v1/namespaces/${ns}/services` : '/api/v1/services'),
      (ns, page) => (ns ? core.listNamespacedService({ namespace: ns, ...page }) : core.listServiceForAllNamespaces(page)),
      (o) => this.objectChanged(o.metadata?.namespace, `Service/${o.metadata?.name}`), cachedService);

    // Each provider whose API the cluster serves starts its own caches; a release naming another is told what to install.
    const ctx: ProviderContext = {
      kubeConfig: kc, custom, log: opts.log, served: opts.served, services,
      watch: <T extends KubernetesObject>(r: { kind: string; group: string; version: string; plural: string }) =>
        watch<T>(r.plural, crPath(r.group, r.version, r.plural), crList(r.group, r.version, r.plural),
          (o) => this.objectChanged(o.metadata?.namespace, `${r.kind}/${o.metadata?.name}`), cachedCustomObject),
    };
    const running: TrafficProvider[] = [];
    const unavailable = new Map<string, string>();
    for (const f of opts.providers) {
      const problem = f.problem(opts.served);
      if (!problem) running.push(f.create(ctx));
      else {
        unavailable.set(f.name, problem);
        opts.log.info({ provider: f.name, reason: problem }, `${f.kind} releases are not served`);
      }
    }
    // Namespace labels say which releases run in Istio ambient mode; they are read cluster-wide, so only
    // when the operator watches every namespace (with WATCH_NAMESPACES, the Service's own labels count).
    const namespaces = opts.namespaces.length === 0
      ? watch<KubernetesObject>('namespaces', () => '/api/v1/namespaces', (_ns, page) => core.listNamespace(page),
        (o) => this.enqueueWaiting(o.metadata?.name))
      : undefined;
    this.router = new ProviderRouter(running, unavailable, {
      namespace: (name) => namespaces?.get(name),
      service: (ns, name) => services.get(name, ns),
    });
    this.informers = [
      ...running.flatMap((p) => p.caches), deployments as Watched<KubernetesObject>, services as Watched<KubernetesObject>,
      ...(namespaces ? [namespaces] : []),
    ];

    const rounds = opts.analysis && new RoundScheduler(opts.analysis, {
      concurrency: opts.analysisConcurrency?.total,
      perAddress: opts.analysisConcurrency?.perAddress,
      onReady: (key, round) => {
        if (!this.workers.length) return;
        // A round that did not pass may roll back: it goes ahead of the rounds that passed (a wave of promotions).
        if (lookFirstAt(round)) this.queue.addFirst(key);
        else this.queue.addDue(key);
      },
    });
    this.rounds = rounds;
    // Sent beside the reconciles, in order per release (background-events.ts).
    this.events = new BackgroundEventRecorder(new KubeEventRecorder(core, opts.log, opts.instance));
    this.store = new KubeReleaseStore(custom, this.releases);
    this.reconciler = new Reconciler({
      store: this.store,
      router: this.router,
      probe: new DeploymentWorkloadProbe(deployments, services),
      events: this.events,
      log: opts.log,
      analysis: rounds,
      watched: new WatchedServices(),
      validation: { defaultPrometheusAddress: opts.defaultPrometheusAddress, allowedPrometheusAddresses: opts.allowedPrometheusAddresses },
      onDecision: (release, decision) => opts.hooks?.decided?.(release, decision),
    });
  }

  /** Whether every cache has listed at least once (readiness). */
  get synced(): boolean {
    return this.releases.synced && this.informers.every((i) => i.synced);
  }

  /** Releases in the cache (for metrics). */
  listReleases(): ReadonlyArray<CanaryReleaseObject> {
    return this.releases.list();
  }

  /** Lists and watches everything; the caches stay warm on a standby replica too. */
  async startCaches(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    await this.releases.start();
    this.opts.log.info({ releases: this.releases.list().length, providers: this.router.providers.map((p) => p.name), namespaces: this.opts.namespaces.length ? this.opts.namespaces : 'all' }, 'caches synced');
  }

  /** Starts reconciling (on the leader only); every cached release is looked at once. */
  startWorkers(): void {
    if (this.workers.length || this.stopping) return;
    for (const r of this.releases.list()) this.queue.add(keyOf(r));
    // Beside them, one worker for keys whose time has come only (a step or rollback a round decided, a timed
    // look): while the others wait on writes for a burst of watch events, a due decision does not wait for one.
    this.workers = [...Array.from({ length: this.opts.workers }, () => this.work(false)), this.work(true)];
    this.opts.log.info({ workers: this.opts.workers, dueWorkers: 1 }, 'reconciling');
  }

  /** Stops taking work, lets in-flight reconciles finish, stops the caches. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.shutDown();
    await Promise.all(this.workers);
    await this.events.flush();
    await Promise.all([this.releases, ...this.informers].map((i) => i.stop()));
  }

  private async work(dueOnly: boolean): Promise<void> {
    for (;;) {
      const key = await this.queue.get({ dueOnly });
      if (key === undefined) return;
      // Handed out just before a stop (a lost lease): not started.
      if (this.stopping) {
        this.queue.done(key);
        return;
      }
      // The release may name another route than when it was handed out (a watch event in between): it goes
      // back in line, so that it is decided only while it holds every route it names. The check and the
      // reconcile's read happen in one synchronous step, so nothing can change between them.
      if (!this.queue.holdsItsGroups(key)) {
        this.queue.addFirst(key); // marked to go again (first: it had its turn) once done
        this.queue.done(key);
        continue;
      }
      const started = performance.now();
      try {
        const result = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (!this.stopping) this.queue.lookAgainAfter(key, result.requeueAfterMs === undefined ? undefined : Math.max(result.requeueAfterMs, 0));
        this.opts.hooks?.reconciled?.(performance.now() - started, 'ok');
      } catch (err) {
        const conflict = err instanceof ConflictError;
        const delay = this.queue.addRateLimited(key);
        this.opts.hooks?.reconciled?.(performance.now() - started, conflict ? 'conflict' : 'error');
        const fields = { release: key, retryInMs: delay, err: apiMessage(err) };
        if (conflict) this.opts.log.info(fields, 'write conflict; retrying on fresh state');
        else this.opts.log.error(fields, 'reconcile failed; retrying with backoff');
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** An object ("Kind/name") changed: the releases of its namespace that refer to it look again. */
  private objectChanged(ns: string | undefined, ref: string): void {
    if (ns) this.wakeReferrers(`${ns}/${ref}`);
  }

  /** The releases that refer to an object ("ns/Kind/name") look again. */
  private wakeReferrers(ref: string): void {
    if (!this.workers.length) return;
    for (const key of this.referrers.referrersOf(ref)) this.queue.add(key);
  }

  /** What a release refers to: its spec's route, the route of the release in effect, and a replaced release's route. */
  private referencesOf(r: CanaryReleaseObject): string[] {
    return this.namedBy(r).refs;
  }

  private namedBy(r: CanaryReleaseObject): NamedObjects {
    return namedBy(r, (ref, stable, canary) => this.router.references(ref, stable, canary));
  }

  /** The work-queue groups of a release: one per route it names ("ns/Kind/name"), or its own key when it names none. */
  private routeGroupsOf(key: string): readonly string[] {
    const slash = key.indexOf('/');
    const r = this.store.get(key.slice(0, slash), key.slice(slash + 1));
    if (!r) return [key];
    const rv = r.metadata?.resourceVersion;
    const known = this.groupsByRelease.get(key);
    if (known && known.rv === rv && rv !== undefined) return known.groups;
    const { routes } = this.namedBy(r);
    // Only the groups are kept (not what the release refers to): a release event asks for those afresh.
    const groups = routes.length > 0 ? routes.map((x) => `${r.metadata?.namespace}/${x}`) : [key];
    this.groupsByRelease.set(key, { rv, groups });
    return groups;
  }

  /** A Deployment changed: releases in its namespace that wait for, walk or hold a canary look again. */
  private enqueueWaiting(ns: string | undefined): void {
    if (!this.workers.length) return;
    for (const r of this.releases.list(ns)) {
      const phase = (r.status as { phase?: string } | undefined)?.phase;
      if (phase === undefined || isActive(phase)) this.queue.add(keyOf(r));
    }
  }
}

function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace}/${o.metadata?.name}`;
}
