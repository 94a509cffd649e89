// One cache over one informer per watched namespace (or one cluster-wide).
import type { KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { ResilientInformer } from './resilient-informer.js';

export class Watched<T extends KubernetesObject> implements ObjectCache<T> {
  private readonly byNamespace = new Map<string, ResilientInformer<T>>();

  /** `make(undefined)` is a cluster-wide informer; `make(ns)` one namespace's. */
  constructor(namespaces: string[], make: (namespace: string | undefined) => ResilientInformer<T>) {
    if (namespaces.length === 0) this.byNamespace.set('', make(undefined));
    for (const ns of namespaces) this.byNamespace.set(ns, make(ns));
  }

  private informerFor(namespace: string | undefined): ResilientInformer<T> | undefined {
    return this.byNamespace.get('') ?? (namespace ? this.byNamespace.get(namespace) : undefined);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informerFor(namespace)?.get(name, namespace);
  }

  list(namespace?: string): ReadonlyArray<T> {
    if (namespace) return this.informerFor(namespace)?.list(namespace) ?? [];
    return [...this.byNamespace.values()].flatMap((i) => [...i.list()]);
  }

  get synced(): boolean {
    return [...this.byNamespace.values()].every((i) => i.synced);
  }

  async start(): Promise<void> {
    await Promise.all([...this.byNamespace.values()].map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.byNamespace.values()].map((i) => i.stop()));
  }
}
