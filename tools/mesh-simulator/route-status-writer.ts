// Plays the mesh controller's part for the HTTPRoutes the simulator follows:
// after every change of a watched object it recomputes the status.parents of
// each HTTPRoute in the hosts' namespaces that has a simulated host as a
// Service parent (route-status.ts), and writes those that differ through the
// status subresource, guarded by the resourceVersion it computed from.
// Passes run one at a time; changes during a pass cause another pass.
import { ApiException, PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { HostConfig } from './config.js';
import { GATEWAY_API_GROUP, GATEWAY_API_VERSION } from './kube-watch.js';
import { currentParents, desiredParents, sameParents } from './route-status.js';
import type { ClusterView } from './traffic.js';

type Log = (level: 'debug' | 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

export interface RouteStatusWriterOptions {
  hosts: readonly HostConfig[];
  view: ClusterView;
  /** Subscribes to changes of the view; returns an unsubscribe function. */
  onChange: (listener: () => void) => () => void;
  custom: CustomObjectsApi;
  log: Log;
  now?: () => Date;
  /** After a failed write (other than a conflict, which the next watch event resolves), retry after this long; default 1 s. */
  retryMs?: number;
}

export class RouteStatusWriter {
  private readonly servicesByNamespace = new Map<string, Set<string>>();
  private unsubscribe: (() => void) | undefined;
  private scheduled: NodeJS.Immediate | undefined;
  private retry: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  /** Route key -> the resourceVersion our last write started from: until the cache moves past it, that write is still on its way back. */
  private readonly inFlight = new Map<string, string>();
  /** Successful status writes so far. */
  writes = 0;

  constructor(private readonly opts: RouteStatusWriterOptions) {
    for (const h of opts.hosts) {
      const set = this.servicesByNamespace.get(h.namespace) ?? new Set<string>();
      set.add(h.service);
      this.servicesByNamespace.set(h.namespace, set);
    }
  }

  start(): void {
    this.unsubscribe = this.opts.onChange(() => this.schedule());
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.scheduled) clearImmediate(this.scheduled);
    clearTimeout(this.retry);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    // Coalesces the burst of events one write or list produces.
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.running = this.passes().finally(() => (this.running = undefined));
    });
  }

  private async passes(): Promise<void> {
    do {
      this.dirty = false;
      await this.pass();
    } while (this.dirty && !this.stopped);
  }

  private async pass(): Promise<void> {
    let failed = false;
    for (const [namespace, services] of this.servicesByNamespace) {
      const objs = this.opts.view.objects(namespace);
      if (!objs?.httpRoutes) continue;
      const existing = new Set(objs.services.map((s) => s.metadata?.name));
      for (const route of objs.httpRoutes) {
        if (this.stopped) return;
        const name = route.metadata?.name;
        const rv = route.metadata?.resourceVersion;
        if (!name || !rv) continue;
        const key = `${namespace}/${name}`;
        if (this.inFlight.get(key) === rv) continue;
        this.inFlight.delete(key);
        const parents = desiredParents(route, { serves: (s) => services.has(s), serviceExists: (s) => existing.has(s), now: this.opts.now?.() ?? new Date() });
        if (sameParents(parents, currentParents(route))) continue;
        if (!(await this.write(namespace, name, rv, parents, route.metadata?.generation))) failed = true;
        else this.inFlight.set(key, rv);
      }
    }
    if (failed && !this.stopped) {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.schedule(), this.opts.retryMs ?? 1000);
    }
  }

  /** True when written, or when there is nothing to retry (a conflict or a deleted route: a watch event follows). */
  private async write(namespace: string, name: string, resourceVersion: string, parents: unknown[], generation: number | undefined): Promise<boolean> {
    try {
      await this.opts.custom.patchNamespacedCustomObjectStatus(
        {
          group: GATEWAY_API_GROUP,
          version: GATEWAY_API_VERSION,
          namespace,
          plural: 'httproutes',
          name,
          body: { metadata: { resourceVersion }, status: { parents } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.writes++;
      this.opts.log('debug', 'HTTPRoute status written', { route: `${namespace}/${name}`, generation });
      return true;
    } catch (err) {
      if (err instanceof ApiException && (err.code === 409 || err.code === 404)) return true;
      this.opts.log('warn', 'HTTPRoute status write failed; retrying', { route: `${namespace}/${name}`, err: err instanceof Error ? err.message.split('\n')[0] : String(err) });
      return false;
    }
  }
}
