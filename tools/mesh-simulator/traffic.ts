// The traffic engine: for each host, every tick, draws the tick's requests,
// routes each by the current plan (the host's HTTPRoute or VirtualService
// split x endpoints, as its data plane applies them) and records its outcome
// as Istio metrics, reported as that data plane reports them. The plan is rebuilt only when the
// watched objects change (the view's version moves). Time is counted in
// ticks, not read from a clock, so the same seed gives the same requests.
import {
  BUILTIN_BEHAVIOUR,
  mergeBehaviour,
  parseBehaviourAnnotations,
  parseBehaviourConfigMap,
  resolveBehaviour,
  type Behaviour,
  type BehaviourPatch,
  type BehaviourTable,
} from './behaviour.js';
import { DEFAULTS, type HostConfig } from './config.js';
import { dataplaneOf, type Dataplane } from './dataplane.js';
import { backendRefProblem, selectHttpRoute, splitHttpRoute } from './http-route.js';
import { IstioMetrics, UNKNOWN, UNKNOWN_WORKLOAD, type Reporter, type ServiceIdentity, type WorkloadIdentity } from './istio-metrics.js';
import { deriveSeed, mulberry32, type Rng } from './rng.js';
import { parseServiceHost, pickByShare, selectVirtualService, splitTraffic } from './routing.js';
import { outcomeSampler, type Outcome } from './sampling.js';
import { resolveEndpoints, type NamespaceObjects } from './workloads.js';

/** The watched cluster state, as the engine reads it. */
export interface ClusterView {
  /** Moves whenever any watched object changes. */
  version(): number;
  /** undefined for namespaces that are not watched. */
  objects(namespace: string): NamespaceObjects | undefined;
}

/** One way a request can go, with its probability. */
export interface PlanEntry {
  share: number;
  service: ServiceIdentity;
  routeName?: string;
  subset?: string;
  /** undefined: the request fails in the proxy that routes it (client sidecar or waypoint) and reaches no workload. */
  destination?: WorkloadIdentity;
  behaviour?: Behaviour;
  /** For failures in the proxy that routes the request. */
  failure?: { code: number; flags: string; reason: string };
}

/** The route object a host's traffic follows. */
export interface FollowedRoute {
  kind: 'VirtualService' | 'HTTPRoute';
  namespace: string;
  name: string;
  /** metadata.generation of the version followed. */
  generation?: number;
}

export interface HostPlan {
  /** Name of the VirtualService followed (also in `route`). */
  virtualService?: string;
  /** The route followed; absent when none applies (none exists, or ambient mode without a waypoint). */
  route?: FollowedRoute;
  dataplane: Dataplane;
  entries: PlanEntry[];
  /** Configuration problems found while building the plan (bad ConfigMap entries, annotations, routes). */
  problems: string[];
}

interface CompiledEntry extends PlanEntry {
  sample: (rng: Rng) => Outcome;
}

interface HostState {
  config: HostConfig;
  key: string;
  source: WorkloadIdentity;
  rng: Rng;
  carry: number;
  requests: number;
  plan: HostPlan;
  compiled: CompiledEntry[];
}

export interface EngineOptions {
  hosts: HostConfig[];
  seed: number;
  view: ClusterView;
  metrics: IstioMetrics;
  tickMs?: number;
  matchShare?: number;
  defaultBehaviour?: BehaviourPatch;
  configMapName?: string;
  clusterDomain?: string;
  /** Called with a host's plan whenever it is rebuilt and differs from the previous one. */
  onPlanChange?: (host: HostConfig, plan: HostPlan) => void;
}

/** Envoy answers local failures (no route, no upstream) in about a millisecond. */
const LOCAL_FAILURE_LATENCY = { p50: 0.5, p99: 2 };

export function sourceIdentity(host: HostConfig): WorkloadIdentity {
  const s = { ...DEFAULTS.source, ...host.source };
  const namespace = host.source?.namespace ?? host.namespace;
  return {
    workload: s.workload,
    namespace,
    principal: `spiffe://cluster.local/ns/${namespace}/sa/${s.serviceAccount}`,
    app: s.app,
    version: s.version,
    canonicalService: s.app,
    canonicalRevision: s.version,
  };
}

export class TrafficEngine {
  private readonly hosts: HostState[];
  private readonly defaults: Behaviour;
  private viewVersion = -1;
  private ticks = 0;

  constructor(private readonly opts: EngineOptions) {
    this.defaults = mergeBehaviour(BUILTIN_BEHAVIOUR, opts.defaultBehaviour);
    this.hosts = opts.hosts.map((config) => {
      const key = `${config.namespace}/${config.service}`;
      return {
        config,
        key,
        source: sourceIdentity(config),
        rng: mulberry32(deriveSeed(opts.seed, key)),
        carry: 0,
        requests: 0,
        plan: { dataplane: { mode: 'sidecar' }, entries: [], problems: [] },
        compiled: [],
      };
    });
  }

  get tickMs(): number {
    return this.opts.tickMs ?? DEFAULTS.tickMs;
  }

  /** Ticks run so far. */
  get tickCount(): number {
    return this.ticks;
  }

  /** Runs `count` ticks of traffic for every host. */
  tick(count = 1): void {
    for (let i = 0; i < count; i++) {
      this.refreshPlans();
      for (const h of this.hosts) this.tickHost(h);
      this.ticks++;
    }
  }

  /** The current plans and request counts, for /state and tests. */
  snapshot(): { seed: number; ticks: number; hosts: { namespace: string; service: string; rps: number; requests: number; plan: HostPlan }[] } {
    this.refreshPlans();
    return {
      seed: this.opts.seed,
      ticks: this.ticks,
      hosts: this.hosts.map((h) => ({ namespace: h.config.namespace, service: h.config.service, rps: h.config.rps, requests: h.requests, plan: h.plan })),
    };
  }

  private tickHost(h: HostState): void {
    const due = (h.config.rps * this.tickMs) / 1000 + h.carry;
    const n = Math.floor(due);
    h.carry = due - n;
    if (h.compiled.length === 0) return;
    const dataplane = h.plan.dataplane;
    for (let i = 0; i < n; i++) {
      const entry = pickByShare(h.compiled, h.rng.next());
      if (!entry) continue;
      const outcome = entry.sample(h.rng);
      h.requests++;
      const base = { source: h.source, service: entry.service };
      if (dataplane.mode === 'ambient' && !dataplane.waypoint) {
        // Only ztunnels see the request, as one connection (no keep-alive), counted where it arrives.
        if (!entry.failure && entry.destination) this.opts.metrics.recordConnection({ ...base, destination: entry.destination });
        continue;
      }
      // Sidecars: the client's reports everything, the server's what reached it. A waypoint reports once.
      const reporters: Reporter[] = dataplane.mode === 'ambient' ? ['waypoint'] : entry.failure ? ['source'] : ['destination', 'source'];
      for (const reporter of reporters) {
        this.opts.metrics.record(
          entry.failure
            ? { ...base, reporter, destination: undefined, responseCode: outcome.code, responseFlags: entry.failure.flags }
            : { ...base, reporter, destination: entry.destination, responseCode: outcome.code, responseFlags: '-' },
          outcome.latencyMs,
        );
      }
    }
  }

  private refreshPlans(): void {
    const version = this.opts.view.version();
    if (version === this.viewVersion) return;
    this.viewVersion = version;
    const tables = new Map<string, { table: BehaviourTable; problems: string[] }>();
    // One snapshot per namespace for the whole refresh (each is a copy of the watch caches, and indexed once).
    const snapshots = new Map<string, NamespaceObjects | undefined>();
    const objectsOf = (ns: string) => {
      if (!snapshots.has(ns)) snapshots.set(ns, this.opts.view.objects(ns));
      return snapshots.get(ns);
    };
    for (const h of this.hosts) {
      const plan = this.buildPlan(h.config, tables, objectsOf);
      const changed = JSON.stringify(plan) !== JSON.stringify(h.plan);
      h.plan = plan;
      h.compiled = plan.entries.map((e) => ({
        ...e,
        sample: outcomeSampler(
          e.behaviour ?? { errorRate: 1, errorCode: e.failure?.code ?? 503, latencyMs: LOCAL_FAILURE_LATENCY },
        ),
      }));
      if (changed) this.opts.onPlanChange?.(h.config, plan);
    }
  }

  private serviceIdentity(name: string, namespace: string | undefined): ServiceIdentity {
    const domain = this.opts.clusterDomain ?? DEFAULTS.clusterDomain;
    return namespace === undefined ? { name, namespace: UNKNOWN, fqdn: name } : { name, namespace, fqdn: `${name}.${namespace}.svc.${domain}` };
  }

  private buildPlan(host: HostConfig, tables: Map<string, { table: BehaviourTable; problems: string[] }>, objectsOf: (namespace: string) => NamespaceObjects | undefined): HostPlan {
    const problems = new Set<string>();
    const cmName = this.opts.configMapName ?? DEFAULTS.configMapName;
    const tableFor = (ns: string, objs: NamespaceObjects): BehaviourTable => {
      let t = tables.get(ns);
      if (!t) {
        const cm = objs.configMaps.find((c) => c.metadata?.name === cmName);
        const parsed = parseBehaviourConfigMap(cm?.data, `${ns}/${cmName}`);
        t = { table: parsed.value, problems: parsed.problems };
        tables.set(ns, t);
      }
      t.problems.forEach((p) => problems.add(p));
      return t.table;
    };
    const objs = objectsOf(host.namespace);
    const dataplane = dataplaneOf(host.namespace, objs?.namespace, objs?.services.find((s) => s.metadata?.name === host.service));
    const routed = this.routeTargets(host, objs, dataplane, problems);
    const entries: PlanEntry[] = [];
    for (const t of routed.targets) {
      const serviceId = this.serviceIdentity(t.service, t.namespace);
      const common: Pick<PlanEntry, 'service' | 'routeName' | 'subset'> = { service: serviceId };
      if (t.routeName !== undefined) common.routeName = t.routeName;
      if (t.subset !== undefined) common.subset = t.subset;
      if (t.failure) {
        problems.add(t.failure.reason);
        entries.push({ ...common, share: t.share, failure: t.failure });
        continue;
      }
      const destObjs = t.namespace === undefined ? undefined : objectsOf(t.namespace);
      if (!destObjs) {
        // A host the simulator does not watch: it answers, but its workload is unknown.
        entries.push({ ...common, share: t.share, destination: UNKNOWN_WORKLOAD, behaviour: this.defaults });
        continue;
      }
      const resolved = resolveEndpoints(destObjs, t.service, t.namespace!, t.subset);
      if (!resolved.ok) {
        problems.add(resolved.reason);
        entries.push({ ...common, share: t.share, failure: { code: resolved.code, flags: resolved.flags, reason: resolved.reason } });
        continue;
      }
      const table = tableFor(t.namespace!, destObjs);
      for (const ep of resolved.endpoints) {
        const annotations = parseBehaviourAnnotations(ep.deployment.metadata?.annotations, `Deployment ${t.namespace}/${ep.identity.workload}`);
        annotations.problems.forEach((p) => problems.add(p));
        // An HTTPRoute backend behaves as a version of the host: "<host>.<version>" applies to it.
        const behaviour = t.backendOf
          ? resolveBehaviour(this.defaults, table, t.backendOf, ep.behaviourKey, annotations.value, t.service)
          : resolveBehaviour(this.defaults, table, t.service, ep.behaviourKey, annotations.value);
        entries.push({ ...common, share: t.share * ep.share, destination: ep.identity, behaviour });
      }
    }
    if (routed.unrouted > 0) {
      entries.push({ service: this.serviceIdentity(host.service, host.namespace), share: routed.unrouted, failure: { code: 404, flags: 'NR', reason: routed.unroutedReason } });
    }
    const plan: HostPlan = { dataplane, entries, problems: [...problems] };
    if (routed.route) plan.route = routed.route;
    if (routed.route?.kind === 'VirtualService') plan.virtualService = routed.route.name;
    return plan;
  }

  /** Where the host's requests go before endpoints are resolved: by its HTTPRoute, else its VirtualService, else straight to the Service. */
  private routeTargets(host: HostConfig, objs: NamespaceObjects | undefined, dataplane: Dataplane, problems: Set<string>): RoutedTargets {
    const matchShare = host.matchShare ?? this.opts.matchShare ?? DEFAULTS.matchShare;
    const vs = objs ? selectVirtualService(objs.virtualServices, host.namespace, host.service) : undefined;
    const hr = objs?.httpRoutes ? selectHttpRoute(objs.httpRoutes, host.namespace, host.service) : undefined;
    const whole: RoutedTargets = { targets: [{ share: 1, service: host.service, namespace: host.namespace }], unrouted: 0, unroutedReason: 'no route' };
    const name = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? '?';
    if (dataplane.mode === 'ambient' && !dataplane.waypoint) {
      const ignored = [hr && `HTTPRoute ${name(hr)}`, vs && `VirtualService ${name(vs)}`].filter(Boolean);
      if (ignored.length > 0) problems.add(`${host.namespace}/${host.service} is in ambient mode without a waypoint: ${ignored.join(' and ')} not applied (ztunnel routes L4 only)`);
      return whole;
    }
    if (hr && vs) {
      problems.add(`both HTTPRoute ${name(hr)} and VirtualService ${name(vs)} route ${host.namespace}/${host.service}: following the HTTPRoute (Istio does not support mixing them for one host)`);
    }
    if (hr) {
      const route = followed('HTTPRoute', host.namespace, hr);
      const split = splitHttpRoute(hr, matchShare);
      const services = new Set((objs?.services ?? []).map((s) => s.metadata?.name));
      const targets: Target[] = split.destinations.map((d) => {
        const t: Target = { share: d.share, service: d.backend.name, namespace: host.namespace, backendOf: host.service };
        if (d.ruleName !== undefined) t.routeName = d.ruleName;
        const problem = backendRefProblem(d.backend, host.namespace, (n) => services.has(n));
        // Gateway API: requests for an unusable backend get a 500.
        if (problem) t.failure = { code: 500, flags: '-', reason: `HTTPRoute ${route.name}: ${problem.message} (${problem.reason})` };
        return t;
      });
      if (split.noBackend > 0) {
        targets.push({ share: split.noBackend, service: host.service, namespace: host.namespace, failure: { code: 500, flags: '-', reason: `HTTPRoute ${route.name}: a rule has no backend with weight above 0` } });
      }
      return { route, targets, unrouted: split.unrouted, unroutedReason: `HTTPRoute ${route.name}: no rule takes ${(split.unrouted * 100).toFixed(1)}% of requests` };
    }
    if (vs) {
      const route = followed('VirtualService', host.namespace, vs);
      const split = splitTraffic(vs, matchShare);
      const targets = split.destinations.map((d) => {
        const { service, namespace } = parseServiceHost(d.host, vs.metadata?.namespace ?? host.namespace);
        const t: Target = { share: d.share, service, namespace };
        if (d.routeName !== undefined) t.routeName = d.routeName;
        if (d.subset !== undefined) t.subset = d.subset;
        return t;
      });
      return { route, targets, unrouted: split.unrouted, unroutedReason: `VirtualService ${route.name}: no HTTP route takes ${(split.unrouted * 100).toFixed(1)}% of requests` };
    }
    return whole;
  }
}

/** A share of the host's requests on its way to a Service (and subset), or failing before it gets there. */
interface Target {
  share: number;
  service: string;
  /** undefined: a host outside the mesh's service naming. */
  namespace: string | undefined;
  subset?: string;
  routeName?: string;
  /** Set for an HTTPRoute backend: the host whose route sends to this Service. */
  backendOf?: string;
  failure?: { code: number; flags: string; reason: string };
}

interface RoutedTargets {
  route?: FollowedRoute;
  targets: Target[];
  unrouted: number;
  unroutedReason: string;
}

function followed(kind: FollowedRoute['kind'], namespace: string, o: { metadata?: { name?: string; namespace?: string; generation?: number } }): FollowedRoute {
  const r: FollowedRoute = { kind, namespace: o.metadata?.namespace ?? namespace, name: o.metadata?.name ?? '?' };
  if (typeof o.metadata?.generation === 'number') r.generation = o.metadata.generation;
  return r;
}
