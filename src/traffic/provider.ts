// The runtime side of a traffic provider, after Argo Rollouts'
// TrafficRoutingReconciler: one small interface, one folder per mesh API. A
// provider reads its route objects from informer caches, answers for the
// targets whose RouteRef names it, and writes only the managed weights.
import type { CustomObjectsApi, KubeConfig, KubernetesObject, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RouteRef } from '../core/plan.js';
import type { TrafficObservation, TrafficTarget } from '../controller/ports.js';
import type { Watched } from '../kube/watched.js';

export interface TrafficProvider {
  /** Its registry name (RouteRef.provider). */
  readonly name: string;
  /** The informer caches it reads; the controller starts them, waits for them, and stops them. */
  readonly caches: Watched<KubernetesObject>[];
  observe(target: TrafficTarget): TrafficObservation;
  setCanaryPercent(target: TrafficTarget, percent: number): Promise<'written' | 'unchanged'>;
  /** The objects a release's route refers to, as "Kind/name" in its namespace: a change to one looks at the release again. */
  references(ref: RouteRef, stable: string, canary: string): string[];
  /** The Services whose callers the target's route steers (for the check that no other provider's route does too). */
  hostsOf(target: TrafficTarget): string[];
  /** This provider's routes that steer callers of `service`, described ("VirtualService prod/reviews"). */
  routesFor(namespace: string, service: string): string[];
}

/** What a provider needs to start: the API, a cache factory, and where to say an object changed. */
export interface ProviderContext {
  kubeConfig: KubeConfig;
  custom: CustomObjectsApi;
  log: Logger;
  /** A cache of one custom resource over the watched namespaces; `changed` is called with "Kind/name" on every event. */
  watch<T extends KubernetesObject>(o: { kind: string; group: string; version: string; plural: string }): Watched<T>;
  /** The API groups and versions the cluster serves (discovery, once at start). */
  served: ReadonlyMap<string, readonly string[]>;
  /** The Services cache the operator keeps anyway (backend Services, selectors). */
  services: Watched<V1Service & KubernetesObject>;
}

export interface ProviderFactory {
  readonly name: string;
  /** The route kind it manages, for messages when it cannot start ("HTTPRoute"). */
  readonly kind: string;
  /** Why it cannot run on a cluster serving these API groups (what to install), or undefined. */
  problem(served: ReadonlyMap<string, readonly string[]>): string | undefined;
  /** Starts the provider (its caches start with the controller's). */
  create(ctx: ProviderContext): TrafficProvider;
}
