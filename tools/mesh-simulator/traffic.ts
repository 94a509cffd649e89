// The traffic engine: for each host, every tick, draws the tick's requests,
// routes each by the current plan (VirtualService split x endpoints) and
// records its outcome as Istio metrics. The plan is rebuilt only when the
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
import { IstioMetrics, UNKNOWN, UNKNOWN_WORKLOAD, type ServiceIdentity, type WorkloadIdentity } from './istio-metrics.js';
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
  /** undefined: the request fails in the client's sidecar and reaches no workload. */
  destination?: WorkloadIdentity;
  behaviour?: Behaviour;
  /** For failures in the client's sidecar. */
  failure?: { code: number; flags: string; reason: string };
}

export interface HostPlan {
  virtualService?: string;
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
        plan: { entries: [], problems: [] },
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
    for (let i = 0; i < n; i++) {
      const entry = pickByShare(h.compiled, h.rng.next());
      if (!entry) continue;
      const outcome = entry.sample(h.rng);
      h.requests++;
      const base = { source: h.source, service: entry.service };
      if (entry.failure) {
        this.opts.metrics.record({ ...base, reporter: 'source', destination: undefined, responseCode: outcome.code, responseFlags: entry.failure.flags }, outcome.latencyMs);
        continue;
      }
      const report = { ...base, destination: entry.destination, responseCode: outcome.code, responseFlags: '-' };
      this.opts.metrics.record({ ...report, reporter: 'destination' }, outcome.latencyMs);
      this.opts.metrics.record({ ...report, reporter: 'source' }, outcome.latencyMs);
    }
  }

  private refreshPlans(): void {
    const version = this.opts.view.version();
    if (version === this.viewVersion) return;
    this.viewVersion = version;
    const tables = new Map<string, { table: BehaviourTable; problems: string[] }>();
    for (const h of this.hosts) {
      const plan = this.buildPlan(h.config, tables);
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

  private buildPlan(host: HostConfig, tables: Map<string, { table: BehaviourTable; problems: string[] }>): HostPlan {
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
    const entries: PlanEntry[] = [];
    const objs = this.opts.view.objects(host.namespace);
    const matchShare = host.matchShare ?? this.opts.matchShare ?? DEFAULTS.matchShare;
    const vs = objs ? selectVirtualService(objs.virtualServices, host.namespace, host.service) : undefined;
    const split = vs ? splitTraffic(vs, matchShare) : { destinations: [{ route: -1, host: host.service, share: 1 }], unrouted: 0 };
    const hostService = this.serviceIdentity(host.service, host.namespace);
    for (const d of split.destinations) {
      const { service, namespace } = parseServiceHost(d.host, vs?.metadata?.namespace ?? host.namespace);
      const serviceId = this.serviceIdentity(service, namespace);
      const common: Pick<PlanEntry, 'service' | 'routeName' | 'subset'> = { service: serviceId };
      if ('routeName' in d && d.routeName !== undefined) common.routeName = d.routeName;
      if ('subset' in d && d.subset !== undefined) common.subset = d.subset;
      const destObjs = namespace === undefined ? undefined : this.opts.view.objects(namespace);
      if (!destObjs) {
        // A host the simulator does not watch: it answers, but its workload is unknown.
        entries.push({ ...common, share: d.share, destination: UNKNOWN_WORKLOAD, behaviour: this.defaults });
        continue;
      }
      const resolved = resolveEndpoints(destObjs, service, namespace!, common.subset);
      if (!resolved.ok) {
        problems.add(resolved.reason);
        entries.push({ ...common, share: d.share, failure: { code: resolved.code, flags: resolved.flags, reason: resolved.reason } });
        continue;
      }
      const table = tableFor(namespace!, destObjs);
      for (const ep of resolved.endpoints) {
        const annotations = parseBehaviourAnnotations(ep.deployment.metadata?.annotations, `Deployment ${namespace}/${ep.identity.workload}`);
        annotations.problems.forEach((p) => problems.add(p));
        const behaviour = resolveBehaviour(this.defaults, table, service, ep.behaviourKey, annotations.value);
        entries.push({ ...common, share: d.share * ep.share, destination: ep.identity, behaviour });
      }
    }
    if (split.unrouted > 0) {
      const reason = vs ? `VirtualService ${vs.metadata?.name}: no HTTP route takes ${(split.unrouted * 100).toFixed(1)}% of requests` : 'no route';
      entries.push({ service: hostService, share: split.unrouted, failure: { code: 404, flags: 'NR', reason } });
    }
    const plan: HostPlan = { entries, problems: [...problems] };
    if (vs?.metadata?.name) plan.virtualService = vs.metadata.name;
    return plan;
  }
}
