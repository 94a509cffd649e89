// A small world for property tests of the release logic: the real Reconciler
// and decide() over in-memory ports, two releases that may name the same
// route, a mesh whose subsets can be healthy, failing, quiet or unmeasurable,
// workloads that come and go, people and GitOps tools that edit things, and
// writes that fail, a Prometheus that answers late (rounds run through the real
// RoundScheduler), an operator clock that jumps, VirtualServices re-created or
// edited elsewhere and DestinationRule subsets that vanish. Each step of a
// random sequence is one of these actions; the world records every write so
// the invariants can be checked afterwards.
import { pino } from 'pino';
import { GateVerdict, type GateResult } from '../../../src/api/analysis-status.js';
import { REQUEST_ANNOTATIONS, type RequestKind } from '../../../src/api/names.js';
import type { CanaryReleaseStatus } from '../../../src/api/status.js';
import { RoundScheduler } from '../../../src/analysis/round-scheduler.js';
import type { AnalysisTarget } from '../../../src/analysis/analysis-runner.js';
import type { AnalysisRound } from '../../../src/core/analysis-rules.js';
import type { AnalysisPlan } from '../../../src/core/plan.js';
import { ConflictError, type AnalysisProvider, type CanaryReleaseObject } from '../../../src/controller/ports.js';
import { Reconciler } from '../../../src/controller/reconciler.js';
import { FINALIZER } from '../../../src/api/names.js';
import { resolveManagedRoutes } from '../../../src/traffic/istio/virtual-service.js';
import { NOW, NS, reviewsVs } from '../release-fixtures.js';
import { FakeProbe, MemoryEventRecorder, MemoryReleaseStore, MemoryTrafficRouter } from '../fakes/memory-ports.js';

export type Health = 'good' | 'bad' | 'quiet' | 'down';
export const RELEASES = ['a', 'b'] as const;
export type ReleaseName = (typeof RELEASES)[number];

export const PLANS = [
  [{ weight: 10, duration: '60s' }, { weight: 50, duration: '60s' }, { weight: 100 }],
  [{ weight: 5, duration: '30s' }, { weight: 100 }],
  [{ weight: 20, duration: '0s' }, { weight: 60, duration: '90s' }, { weight: 100 }],
  [{ weight: 100 }],
  [{ weight: 10, duration: '2m' }, { weight: 20, duration: '2m' }, { weight: 40, duration: '2m' }, { weight: 100 }],
];

export type Action =
  | { kind: 'advance'; ms: number }
  | { kind: 'reconcile'; release: ReleaseName }
  | { kind: 'runDue' }
  | { kind: 'health'; subset: 'v1' | 'v2' | 'v3'; health: Health }
  | { kind: 'available'; subset: 'v1' | 'v2' | 'v3'; up: boolean }
  | { kind: 'gitopsRevert' }
  | { kind: 'pause'; release: ReleaseName; paused: boolean }
  | { kind: 'plan'; release: ReleaseName; plan: number }
  | { kind: 'canary'; release: ReleaseName; subset: 'v2' | 'v3' }
  | { kind: 'request'; release: ReleaseName; request: RequestKind }
  | { kind: 'failStatusWrite' }
  | { kind: 'failTrafficWrite' }
  | { kind: 'create'; release: ReleaseName }
  | { kind: 'delete'; release: ReleaseName }
  /** The operator's clock is stepped (NTP, a VM resumed): later timestamps come from the new clock. */
  | { kind: 'clockJump'; ms: number }
  /** GitOps deletes and re-creates the VirtualService from git: a new uid, generation 1, 100% stable. */
  | { kind: 'recreateRoute' }
  /** Someone edits another route of the VirtualService (a timeout on the "jason" route). */
  | { kind: 'unrelatedEdit' }
  /** The DestinationRule loses, or gets back, one subset. */
  | { kind: 'subset'; subset: 'v1' | 'v2' | 'v3'; defined: boolean };

export interface StatusWrite {
  key: string;
  at: number;
  /** The order of all writes, status and traffic alike (several can share one `at`). */
  seq: number;
  before: CanaryReleaseStatus;
  after: CanaryReleaseStatus;
  annotations: Record<string, string>;
}

export interface TrafficWrite {
  key: string;
  at: number;
  /** The order of all writes, status and traffic alike. */
  seq: number;
  percent: number;
  /** The release's stored status when the write happened (after its status write). */
  status: CanaryReleaseStatus;
  deleting: boolean;
}

const keyOf = (r: ReleaseName) => `${NS}/${r}`;

/** What the analysis gates are: windowed (one verdict per round) or sequential (counts judged on the evidence in status). */
export type GateKind = 'windowed' | 'sequential';

/**
 * Rounds with the verdict the canary subset's health gives when they start,
 * answered `latencyMs` of world time later (0: at the next step of the world).
 * Sequential rounds count the batch the reconciler asked for: 10 canary and
 * 90 stable requests a second, stable with 2% errors, the canary with 0.2%
 * (good: evidence for it gathers within a minute or two, so steps can end
 * early), 30% (bad), no requests (quiet), or no answer at all (down).
 */
class MeshProvider implements AnalysisProvider {
  private pending: { due: number; resolve: () => void }[] = [];
  constructor(private readonly world: ReleaseWorld, private readonly latencyMs: number) {}
  run(plan: AnalysisPlan, t: AnalysisTarget, at: Date): Promise<AnalysisRound> {
    const health = this.world.health[t.canarySubset as 'v2' | 'v3'] ?? 'good';
    const round = plan.sequential.length > 0 ? sequentialRound(t, at, health) : windowedRound(plan, at, health);
    return new Promise((resolve) => this.pending.push({ due: this.world.time + this.latencyMs, resolve: () => resolve(round) }));
  }
  /** When Prometheus last answered a preflight (operator clock), as AnalysisRunner keeps it. */
  private answeredAt: number | undefined;
  preflight(): Promise<{ ok: true } | { ok: false; message: string }> {
    const up = this.world.prometheusUp;
    this.answeredAt = up ? this.world.clockMs() : undefined;
    return Promise.resolve(up ? { ok: true } : { ok: false, message: 'Prometheus did not answer' });
  }
  /** Another release's recent answer decides a preflight at once (the first step in the first reconcile). */
  preflightFromRecent(_plan: AnalysisPlan, _t: AnalysisTarget, maxAgeMs: number): { ok: true } | undefined {
    if (this.answeredAt === undefined) return undefined;
    const age = this.world.clockMs() - this.answeredAt;
    return age >= 0 && age < maxAgeMs ? { ok: true } : undefined;
  }
  /** Answers the rounds due by now; true when any was. */
  answer(): boolean {
    const ready = this.pending.filter((p) => p.due <= this.world.time);
    this.pending = this.pending.filter((p) => p.due > this.world.time);
    for (const p of ready) p.resolve();
    return ready.length > 0;
  }
}

function windowedRound(plan: AnalysisPlan, at: Date, health: Health): AnalysisRound {
  const verdict = { good: GateVerdict.Pass, bad: GateVerdict.Fail, quiet: GateVerdict.Inconclusive, down: GateVerdict.Error }[health];
  const result: GateResult = { name: 'errors', query: 'q', threshold: '<= 1%', verdict, message: `errors ${verdict} (${health})` };
  return { evaluatedAt: at, measuredFrom: new Date(at.getTime() - plan.windowMs), results: [result], verdict };
}

function sequentialRound(t: AnalysisTarget, at: Date, health: Health): AnalysisRound {
  // The reconciler hands every round the batch status asks for; without it the wiring is broken.
  if (!t.counting) throw new Error('a sequential round without the batch to count');
  const from = t.counting.from;
  const seconds = Math.max(0, at.getTime() - from.getTime()) / 1000;
  const canary = health === 'quiet' ? 0 : Math.round(10 * seconds);
  const stable = Math.round(90 * seconds);
  const requests = health === 'down'
    ? { ok: false as const, message: 'cannot reach Prometheus' }
    : { ok: true as const, value: { canary: { total: canary, errors: Math.round(canary * (health === 'bad' ? 0.3 : 0.002)) }, stable: { total: stable, errors: Math.round(stable * 0.02) } } };
  return { evaluatedAt: at, measuredFrom: from, results: [], verdict: GateVerdict.Pass, sequential: { from, requests, queries: {} } };
}

const settleMicrotasks = async () => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
};

export class ReleaseWorld {
  time = 0;
  readonly log: string[] = [];
  readonly store = new MemoryReleaseStore(this.log);
  readonly router = new MemoryTrafficRouter(this.log);
  readonly probe = new FakeProbe();
  readonly events = new MemoryEventRecorder(this.log);
  readonly health: Record<'v2' | 'v3', Health> = { v2: 'good', v3: 'good' };
  prometheusUp = true;
  readonly statusWrites: StatusWrite[] = [];
  readonly trafficWrites: TrafficWrite[] = [];
  private writeSeq = 0;
  readonly requeues: number[] = [];
  /** When each release asked to be looked at again (world ms). */
  readonly due = new Map<string, number>();
  /** How far the operator's clock is off the world's (clockJump). */
  skewMs = 0;
  private recreated = 0;
  private readonly provider: MeshProvider;
  private readonly specs = new Map<ReleaseName, { canary: 'v2' | 'v3'; plan: number; paused: boolean }>();
  private requestCount = 0;
  private failStatus = false;
  private failTraffic = false;
  /** Whether the last reconcile of each release succeeded. */
  readonly lastOk = new Map<string, boolean>();

  /** An injected failure that no write has consumed yet. */
  get failurePending(): boolean {
    return this.failStatus || this.failTraffic;
  }
  private current = '';
  private readonly reconciler: Reconciler;

  constructor(roundLatencyMs = 0, readonly gates: GateKind = 'windowed') {
    this.router.vs = reviewsVs(undefined);
    this.provider = new MeshProvider(this, roundLatencyMs);
    const realWrite = this.store.writeStatus.bind(this.store);
    this.store.writeStatus = async (release: CanaryReleaseObject, status: CanaryReleaseStatus) => {
      if (this.failStatus) {
        this.failStatus = false;
        throw new ConflictError(`CanaryRelease ${this.current}`);
      }
      const before = structuredClone((release.status ?? {}) as CanaryReleaseStatus);
      const out = await realWrite(release, status);
      this.statusWrites.push({ key: this.current, at: this.time, seq: ++this.writeSeq, before, after: structuredClone(status), annotations: { ...(release.metadata?.annotations ?? {}) } });
      return out;
    };
    const realSet = this.router.setCanaryPercent.bind(this.router);
    this.router.setCanaryPercent = async (t, percent) => {
      if (this.failTraffic) {
        this.failTraffic = false;
        throw new Error('the traffic write failed (connection reset)');
      }
      const out = await realSet(t, percent);
      const stored = this.store.objects.get(this.current);
      if (out === 'written') {
        this.trafficWrites.push({
          key: this.current, at: this.time, seq: ++this.writeSeq, percent,
          status: structuredClone((stored?.status ?? {}) as CanaryReleaseStatus),
          deleting: Boolean(stored?.metadata?.deletionTimestamp),
        });
      }
      return out;
    };
    this.reconciler = new Reconciler({
      store: this.store, router: this.router, probe: this.probe, events: this.events, log: pino({ enabled: false }),
      analysis: new RoundScheduler(this.provider, {
        // A finished round enqueues its release at once, as the controller does.
        onReady: (key) => this.due.set(key, Math.min(this.due.get(key) ?? this.time, this.time)),
        now: () => this.clockMs(),
      }),
      clock: () => new Date(this.clockMs()),
    });
  }

  /** The operator's clock (epoch ms). */
  clockMs(): number {
    return NOW.getTime() + this.time + this.skewMs;
  }

  spec(name: ReleaseName): Record<string, unknown> {
    const s = this.specs.get(name) ?? { canary: name === 'a' ? 'v2' : 'v3', plan: 0, paused: false };
    return {
      service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
      stable: { subset: 'v1' }, canary: { subset: s.canary }, steps: PLANS[s.plan], paused: s.paused,
      canaryUnavailableTimeout: '60s',
      analysis: {
        prometheus: { address: 'http://prometheus.test:9090' }, interval: '30s', window: '60s', failureLimit: 2,
        inconclusiveTimeout: '5m', prometheusErrorTimeout: '5m',
        gates: [this.gates === 'sequential' ? { name: 'errors', sequential: { errorRate: {} } } : { name: 'errors', errorRate: { max: '1%' } }],
      },
    };
  }

  /** The canary's share of the primary route, per subset. */
  primaryWeights(): Record<string, number> {
    const route = (this.router.vs.spec.http[1]?.route ?? []) as { destination: { subset: string }; weight?: number }[];
    return Object.fromEntries(route.map((d) => [d.destination.subset, d.weight ?? (route.length === 1 ? 100 : 0)]));
  }

  /** The canary percent of the stable+canary pair that a release's subsets see on the route. */
  canaryShareOf(stable: string, canary: string): number {
    const r = resolveManagedRoutes(this.router.vs, { namespace: NS, service: 'reviews', stableSubset: stable, canarySubset: canary });
    if (!r.ok) return 0;
    const m = r.routes[0];
    return m && m.budget > 0 ? (m.canaryWeight * 100) / m.budget : 0;
  }

  stored(name: ReleaseName): CanaryReleaseObject | undefined {
    return this.store.objects.get(keyOf(name));
  }

  /** Someone edits the object; a spec edit bumps the generation, metadata edits do not. */
  private mutate(name: ReleaseName, f: (o: CanaryReleaseObject) => void, specEdit: boolean): void {
    const o = this.stored(name);
    if (!o) return;
    const copy = structuredClone(o);
    f(copy);
    if (specEdit) copy.metadata = { ...copy.metadata, generation: (copy.metadata?.generation ?? 1) + 1 };
    this.store.put(copy);
  }

  create(name: ReleaseName): void {
    if (this.stored(name)) return;
    this.store.put({
      apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease',
      metadata: { name, namespace: NS, generation: 1, uid: `uid-${name}-${this.time}`, creationTimestamp: new Date(this.clockMs()) },
      spec: this.spec(name),
    });
    this.due.set(keyOf(name), this.time);
  }

  /** Reconciles one release as a worker would; a failed reconcile is retried a second later. */
  async reconcile(name: ReleaseName): Promise<{ ok: boolean; writes: number }> {
    const key = keyOf(name);
    this.current = key;
    const before = this.log.length;
    try {
      const r = await this.reconciler.reconcile(key);
      if (r.requeueAfterMs !== undefined) {
        this.requeues.push(r.requeueAfterMs);
        this.due.set(key, this.time + r.requeueAfterMs);
      } else {
        this.due.delete(key);
      }
      this.lastOk.set(key, true);
      return { ok: true, writes: this.log.length - before };
    } catch {
      this.due.set(key, this.time + 1000);
      this.lastOk.set(key, false);
      return { ok: false, writes: this.log.length - before };
    }
  }

  async apply(a: Action): Promise<void> {
    if (this.provider.answer()) await settleMicrotasks();
    switch (a.kind) {
      case 'advance':
        this.time += a.ms;
        if (this.provider.answer()) await settleMicrotasks();
        return;
      case 'clockJump':
        this.skewMs += a.ms;
        return;
      case 'recreateRoute': {
        const vs = reviewsVs(undefined);
        vs.metadata = { ...vs.metadata, uid: `uid-vs-recreated-${++this.recreated}`, generation: 1,
          resourceVersion: String(Number(this.router.vs.metadata.resourceVersion) + 1) };
        this.router.vs = vs;
        return;
      }
      case 'unrelatedEdit': {
        const vs = structuredClone(this.router.vs);
        const jason = vs.spec.http[0] as Record<string, unknown>;
        jason.timeout = jason.timeout === '5s' ? '10s' : '5s';
        this.router.write(vs);
        return;
      }
      case 'subset':
        if (a.defined) this.router.missingSubsets.delete(a.subset);
        else this.router.missingSubsets.add(a.subset);
        return;
      case 'reconcile':
        await this.reconcile(a.release);
        return;
      case 'runDue':
        for (const r of RELEASES) {
          const at = this.due.get(keyOf(r));
          if (at !== undefined && at <= this.time) await this.reconcile(r);
        }
        return;
      case 'health':
        if (a.subset !== 'v1') this.health[a.subset] = a.health;
        return;
      case 'available':
        if (a.up) this.probe.down.delete(a.subset);
        else this.probe.down.add(a.subset);
        return;
      case 'gitopsRevert': {
        const vs = structuredClone(this.router.vs);
        (vs.spec.http[1] as { route: unknown }).route = [{ destination: { host: 'reviews', subset: 'v1' }, weight: 100 }];
        this.router.write(vs);
        return;
      }
      case 'pause':
      case 'plan':
      case 'canary': {
        const s = this.specs.get(a.release) ?? { canary: a.release === 'a' ? 'v2' : 'v3', plan: 0, paused: false };
        if (a.kind === 'pause') s.paused = a.paused;
        if (a.kind === 'plan') s.plan = a.plan;
        if (a.kind === 'canary') s.canary = a.subset;
        this.specs.set(a.release, s);
        this.mutate(a.release, (o) => (o.spec = this.spec(a.release)), true);
        return;
      }
      case 'request':
        this.mutate(a.release, (o) => {
          o.metadata = { ...o.metadata, annotations: { ...(o.metadata?.annotations ?? {}), [REQUEST_ANNOTATIONS[a.request]]: `v${++this.requestCount}` } };
        }, false);
        return;
      case 'failStatusWrite':
        this.failStatus = true;
        return;
      case 'failTrafficWrite':
        this.failTraffic = true;
        return;
      case 'create':
        this.create(a.release);
        return;
      case 'delete': {
        const o = this.stored(a.release);
        if (!o || o.metadata?.deletionTimestamp) return;
        if (!(o.metadata?.finalizers ?? []).includes(FINALIZER)) this.store.objects.delete(keyOf(a.release));
        else this.mutate(a.release, (x) => (x.metadata = { ...x.metadata, deletionTimestamp: new Date(this.clockMs()) }), false);
        return;
      }
    }
  }
}

export { keyOf };
