// Watching the objects that shape the simulated traffic, per namespace of the
// configured hosts: VirtualServices and DestinationRules (networking.istio.io),
// HTTPRoutes (gateway.networking.k8s.io/v1, unless turned off), Services,
// Deployments (subset workloads, behaviour annotations), ConfigMaps
// (behaviour) and the Namespace itself (data-plane labels). Each kind is one
// client-node informer on the namespaced path (the Namespace: a field selector); a failed watch (client-node's informer stops on errors
// other than 410 Gone) is restarted with backoff, resuming from the cache's
// resourceVersion. Any change moves version(), which makes the traffic engine
// rebuild its plans.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { ClusterView } from './traffic.js';
import type { NamespaceObjects } from './workloads.js';

type Log = (level: 'debug' | 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** One informer that restarts itself after watch errors. */
class RestartingInformer<T extends KubernetesObject> {
  private readonly inf: Informer<T> & ObjectCache<T>;
  private synced = false;
  private stopped = false;
  private lastError: unknown;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Added to a failed first list's error: what is likely missing. */
  hint: string | undefined;

  constructor(
    readonly name: string,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    kc: KubeConfig,
    private readonly onChange: () => void,
    private readonly log: Log,
    fieldSelector?: string,
  ) {
    this.inf = new ListWatch<T>(path, new Watch(kc), list, false, undefined, fieldSelector);
    const changed = () => this.onChange();
    this.inf.on('add', changed);
    this.inf.on('update', changed);
    this.inf.on('delete', changed);
    this.inf.on('error', (err: unknown) => {
      this.lastError = err ?? new Error('watch failed');
      if (this.synced && !this.stopped) this.scheduleRestart();
    });
  }

  list(): ReadonlyArray<T> {
    return this.inf.list();
  }

  /** Resolves after the first successful list; retries until `deadline` (epoch ms). */
  async start(deadline: number): Promise<void> {
    for (;;) {
      this.lastError = undefined;
      await this.inf.start();
      if (this.stopped) return;
      if (this.lastError === undefined) {
        this.synced = true;
        this.failures = 0;
        this.onChange();
        return;
      }
      if (Date.now() > deadline) throw new Error(`${this.name}: first list failed: ${errText(this.lastError)}${this.hint ? ` (${this.hint})` : ''}`);
      const delay = this.backoff();
      // The first failure and then every fifth: a missing CRD or API server should not flood the log.
      if (this.failures % 5 === 1) this.log('warn', 'list failed; retrying', { informer: this.name, err: errText(this.lastError), attempt: this.failures, retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.inf.stop();
  }

  private scheduleRestart(): void {
    if (this.retryTimer) return;
    const delay = this.backoff();
    if (this.failures % 5 === 1) this.log('warn', 'watch failed; restarting', { informer: this.name, err: errText(this.lastError), attempt: this.failures, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.lastError = undefined;
      void this.inf.start().then(() => {
        if (this.lastError !== undefined || this.stopped) return;
        if (this.failures > 1) this.log('info', 'watch resumed', { informer: this.name });
        this.failures = 0;
      });
    }, delay);
  }

  private backoff(): number {
    this.failures++;
    return Math.min(10_000, 250 * 2 ** Math.min(this.failures, 6));
  }
}

interface NamespaceInformers {
  virtualServices: RestartingInformer<KubernetesObject>;
  destinationRules: RestartingInformer<KubernetesObject>;
  httpRoutes?: RestartingInformer<KubernetesObject>;
  services: RestartingInformer<KubernetesObject>;
  deployments: RestartingInformer<KubernetesObject>;
  configMaps: RestartingInformer<KubernetesObject>;
  namespace: RestartingInformer<KubernetesObject>;
}

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_API_VERSION = 'v1';

export interface MeshWatcherOptions {
  kubeConfig: KubeConfig;
  namespaces: string[];
  istioApiVersion: string;
  /** Watch HTTPRoutes (needs the Gateway API CRDs). */
  gatewayApi: boolean;
  log: Log;
}

export class MeshWatcher implements ClusterView {
  private readonly byNamespace = new Map<string, NamespaceInformers>();
  private changes = 0;
  private readonly listeners = new Set<() => void>();

  constructor(opts: MeshWatcherOptions) {
    const kc = opts.kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const group = 'networking.istio.io';
    const version = opts.istioApiVersion;
    const changed = () => {
      this.changes++;
      for (const l of this.listeners) l();
    };
    for (const namespace of new Set(opts.namespaces)) {
      const make = (kind: string, path: string, list: () => Promise<unknown>, fieldSelector?: string) =>
        new RestartingInformer<KubernetesObject>(`${namespace}/${kind}`, path, list as () => Promise<KubernetesListObject<KubernetesObject>>, kc, changed, opts.log, fieldSelector);
      const customObjects = (g: string, v: string, plural: string) =>
        make(plural, `/apis/${g}/${v}/namespaces/${namespace}/${plural}`, () => custom.listNamespacedCustomObject({ group: g, version: v, namespace, plural }));
      const informers: NamespaceInformers = {
        virtualServices: customObjects(group, version, 'virtualservices'),
        destinationRules: customObjects(group, version, 'destinationrules'),
        services: make('services', `/api/v1/namespaces/${namespace}/services`, () => core.listNamespacedService({ namespace })),
        deployments: make('deployments', `/apis/apps/v1/namespaces/${namespace}/deployments`, () => apps.listNamespacedDeployment({ namespace })),
        configMaps: make('configmaps', `/api/v1/namespaces/${namespace}/configmaps`, () => core.listNamespacedConfigMap({ namespace })),
        namespace: make('namespace', '/api/v1/namespaces', () => core.listNamespace({ fieldSelector: `metadata.name=${namespace}` }), `metadata.name=${namespace}`),
      };
      if (opts.gatewayApi) {
        informers.httpRoutes = customObjects(GATEWAY_API_GROUP, GATEWAY_API_VERSION, 'httproutes');
        informers.httpRoutes.hint = 'are the Gateway API CRDs installed? Without them, turn HTTPRoutes off (option gatewayApi: false, flag --no-gateway-api)';
      }
      this.byNamespace.set(namespace, informers);
    }
  }

  /** Calls `listener` after every change of a watched object (and after each first list). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts every informer; resolves when all listed once, rejects after timeoutMs. */
  async start(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const all = [...this.byNamespace.values()].flatMap((n) => Object.values(n) as RestartingInformer<KubernetesObject>[]);
    const results = await Promise.allSettled(all.map((i) => i.start(deadline)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      await this.stop();
      throw new Error(failed.map((f) => errText(f.reason)).join('; '));
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.byNamespace.values()].flatMap((n) => (Object.values(n) as RestartingInformer<KubernetesObject>[]).map((i) => i.stop())));
  }

  version(): number {
    return this.changes;
  }

  objects(namespace: string): NamespaceObjects | undefined {
    const n = this.byNamespace.get(namespace);
    if (!n) return undefined;
    return {
      virtualServices: n.virtualServices.list() as NamespaceObjects['virtualServices'],
      destinationRules: n.destinationRules.list() as NamespaceObjects['destinationRules'],
      services: n.services.list() as NamespaceObjects['services'],
      deployments: n.deployments.list() as NamespaceObjects['deployments'],
      configMaps: n.configMaps.list() as NamespaceObjects['configMaps'],
      ...(n.httpRoutes ? { httpRoutes: n.httpRoutes.list() as NonNullable<NamespaceObjects['httpRoutes']> } : {}),
      ...(n.namespace.list()[0] ? { namespace: n.namespace.list()[0] as NonNullable<NamespaceObjects['namespace']> } : {}),
    };
  }
}
