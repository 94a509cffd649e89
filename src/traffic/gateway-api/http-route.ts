// Pure reading and editing of a Gateway API HTTPRoute (GAMMA: its parentRef is
// a Service). The operator owns only the weights of the stable and canary
// backendRefs of the managed rule(s): every other rule, match, filter, backend
// and field is left as it is, byte for byte, which is why edits are JSON Patch
// operations on single weights (and one added backendRef), never a rewrite.
import { Reason } from '../../api/conditions.js';
import type { RouteView } from '../../core/traffic.js';
import { describeSplit, type ManagedSplit } from '../weighted-split.js';

export interface HttpRouteTarget {
  namespace: string;
  /** The backend Services of the two versions. */
  stableService: string;
  canaryService: string;
  /** Rule names chosen in the spec (spec.httpRoute.rules); without them the rule is found by its backends. */
  ruleNames?: string[] | undefined;
}

interface BackendRef {
  group?: unknown;
  kind?: unknown;
  name?: unknown;
  namespace?: unknown;
  port?: unknown;
  weight?: unknown;
}
interface Rule {
  name?: unknown;
  matches?: unknown;
  backendRefs?: BackendRef[];
}
interface ParentRef {
  group?: unknown;
  kind?: unknown;
  name?: unknown;
  namespace?: unknown;
}

export interface ManagedRule extends ManagedSplit {
  /** The backendRef to copy (group, kind, port) when the canary's is added. */
  template: BackendRef;
}

export type RuleResolution = { ok: true; rules: ManagedRule[] } | { ok: false; reason: Reason; message: string };
export type JsonPatchOp = { op: 'add' | 'replace' | 'test'; path: string; value: unknown };

function rulesOf(route: unknown): Rule[] {
  const rules = (route as { spec?: { rules?: unknown } } | undefined)?.spec?.rules;
  return Array.isArray(rules) ? (rules as Rule[]) : [];
}

/** A backendRef naming a core Service in the route's namespace (group "" and kind Service are the defaults). */
function isService(ref: BackendRef | ParentRef, name: string, namespace: string): boolean {
  return (ref.group === undefined || ref.group === '' || ref.group === 'core')
    && (ref.kind === undefined || ref.kind === 'Service')
    && ref.name === name
    && (ref.namespace === undefined || ref.namespace === namespace);
}

/** Gateway API: a backendRef without a weight has weight 1. */
const weightOf = (b: BackendRef | undefined): number => (typeof b?.weight === 'number' ? b.weight : 1);

function indexOf(rule: Rule, service: string, namespace: string): number | undefined {
  const i = (rule.backendRefs ?? []).findIndex((b) => isService(b, service, namespace));
  return i < 0 ? undefined : i;
}

/** A rule without matches, or with only the match the API server fills in for one (PathPrefix "/"). */
function matchesEverything(rule: Rule): boolean {
  const m = rule.matches;
  if (m === undefined || (Array.isArray(m) && m.length === 0)) return true;
  if (!Array.isArray(m) || m.length !== 1) return false;
  const only = m[0] as { path?: { type?: unknown; value?: unknown }; headers?: unknown; queryParams?: unknown; method?: unknown };
  return Object.keys(only).length === 1 && only.path?.type === 'PathPrefix' && only.path.value === '/';
}

const label = (rule: Rule, i: number) => (typeof rule.name === 'string' ? `"${rule.name}"` : `#${i}`);

function toManaged(rule: Rule, index: number, t: HttpRouteTarget): ManagedRule {
  const refs = rule.backendRefs ?? [];
  const stableIndex = indexOf(rule, t.stableService, t.namespace);
  const canaryIndex = indexOf(rule, t.canaryService, t.namespace);
  let others = 0;
  refs.forEach((b, i) => {
    if (i !== stableIndex && i !== canaryIndex) others += weightOf(b);
  });
  const stableWeight = stableIndex === undefined ? 0 : weightOf(refs[stableIndex]);
  const canaryWeight = canaryIndex === undefined ? 0 : weightOf(refs[canaryIndex]);
  const pair = stableWeight + canaryWeight;
  return {
    index,
    name: typeof rule.name === 'string' ? rule.name : undefined,
    stableIndex,
    canaryIndex,
    stableWeight,
    canaryWeight,
    // Weights are relative: alone in the rule the pair is rewritten on a scale of 100; beside other
    // backends it keeps its current sum, so their share does not change.
    budget: others === 0 ? 100 : pair,
    total: others + pair,
    template: refs[stableIndex ?? canaryIndex ?? -1] ?? {},
  };
}

/**
 * The rule(s) whose weights the release manages: the named ones, or the one
 * rule with a stable or canary backend. When several have one, the rule that
 * matches everything is chosen, so header rules (a test user's) are never touched.
 */
export function resolveManagedRules(route: unknown, t: HttpRouteTarget): RuleResolution {
  const rules = rulesOf(route);
  const ours = (r: Rule) => indexOf(r, t.stableService, t.namespace) !== undefined || indexOf(r, t.canaryService, t.namespace) !== undefined;
  let chosen: number[];
  if (t.ruleNames?.length) {
    chosen = [];
    for (const name of t.ruleNames) {
      const i = rules.findIndex((r) => r.name === name);
      if (i < 0) return { ok: false, reason: Reason.RouteNotFound, message: `spec.httpRoute.rules: the HTTPRoute has no rule named "${name}"` };
      if (!ours(rules[i] as Rule)) {
        return { ok: false, reason: Reason.RouteNotFound, message: `spec.httpRoute.rules: rule "${name}" has no backendRef to Service ${t.stableService} or ${t.canaryService}` };
      }
      chosen.push(i);
    }
  } else {
    const candidates = rules.flatMap((r, i) => (ours(r) ? [i] : []));
    const defaults = candidates.filter((i) => matchesEverything(rules[i] as Rule));
    if (candidates.length === 1) chosen = candidates;
    else if (defaults.length === 1) chosen = defaults;
    else if (candidates.length === 0) {
      return {
        ok: false, reason: Reason.RouteNotFound,
        message: `no rule of the HTTPRoute has a backendRef to Service ${t.stableService} or ${t.canaryService}; add {name: ${t.stableService}, port: <port>} to the backendRefs of the rule to manage`,
      };
    } else {
      const names = (defaults.length ? defaults : candidates).map((i) => label(rules[i] as Rule, i)).join(', ');
      return { ok: false, reason: Reason.RouteAmbiguous, message: `several rules (${names}) send traffic to ${t.stableService} or ${t.canaryService}; name the one(s) to manage in spec.httpRoute.rules` };
    }
  }
  const managed = chosen.map((i) => toManaged(rules[i] as Rule, i, t));
  const starved = managed.find((m) => m.budget <= 0);
  if (starved) {
    return {
      ok: false, reason: Reason.NoTrafficBudget,
      message: `rule ${label(rules[starved.index] as Rule, starved.index)} gives ${t.stableService} and ${t.canaryService} weight 0 beside other backends, so there is no share to shift; give ${t.stableService} the pair's weight first`,
    };
  }
  return { ok: true, rules: managed };
}

/** The weights that give the canary `percent` of the pair's share. */
export function ruleWeightsFor(rule: ManagedRule, percent: number): { stable: number; canary: number } {
  const canary = Math.round((rule.budget * percent) / 100);
  return { stable: rule.budget - canary, canary };
}

/** Whether a rule sends `percent` of the pair's share to the canary: exactly, or as this module writes it. */
function ruleAt(rule: ManagedRule, percent: number): boolean {
  const pair = rule.stableWeight + rule.canaryWeight;
  if (pair > 0 && rule.canaryWeight * 100 === percent * pair) return true;
  const want = ruleWeightsFor(rule, percent);
  return rule.stableWeight === want.stable && rule.canaryWeight === want.canary;
}

/**
 * JSON Patch that sets the managed rules to `percent`, guarded by the object's
 * resourceVersion. A missing canary backendRef is added as a copy of the
 * stable one (its group, kind, namespace and port) naming the canary Service.
 */
export function ruleWeightPatch(resourceVersion: string, rules: ManagedRule[], t: HttpRouteTarget, percent: number): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  for (const r of rules) {
    if (ruleAt(r, percent)) continue;
    const want = ruleWeightsFor(r, percent);
    const base = `/spec/rules/${r.index}/backendRefs`;
    const set = (index: number | undefined, service: string, weight: number) => {
      if (index !== undefined) ops.push({ op: 'add', path: `${base}/${index}/weight`, value: weight });
      else if (weight > 0) ops.push({ op: 'add', path: `${base}/-`, value: { ...r.template, name: service, weight } });
    };
    if (r.stableIndex !== undefined || want.stable > 0) set(r.stableIndex, t.stableService, want.stable);
    set(r.canaryIndex, t.canaryService, want.canary);
  }
  if (ops.length === 0) return [];
  return [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }, ...ops];
}

/** The Services the route is attached to as GAMMA parents (the callers of these are routed). */
export function parentServices(route: unknown): string[] {
  const namespace = (route as { metadata?: { namespace?: unknown } }).metadata?.namespace;
  const refs = (route as { spec?: { parentRefs?: unknown } }).spec?.parentRefs;
  if (!Array.isArray(refs)) return [];
  return (refs as ParentRef[]).flatMap((p) => (typeof p.name === 'string' && isService(p, p.name, String(namespace ?? p.namespace ?? '')) ? [p.name] : []));
}

interface ParentStatus {
  parentRef?: ParentRef;
  controllerName?: unknown;
  conditions?: { type?: unknown; status?: unknown; reason?: unknown; message?: unknown; observedGeneration?: unknown }[];
}

/**
 * Whether the mesh took this generation: every Service parent has a status
 * entry whose Accepted and ResolvedRefs conditions are True for it. What is
 * missing or false is said in words, with the condition's own reason.
 */
export function routeApplied(route: unknown): { ok: boolean; message: string } {
  const generation = (route as { metadata?: { generation?: unknown } }).metadata?.generation;
  const parents = parentServices(route);
  const statuses = ((route as { status?: { parents?: unknown } }).status?.parents ?? []) as ParentStatus[];
  if (parents.length === 0) return { ok: false, message: 'the HTTPRoute has no Service in spec.parentRefs, so no mesh routes it (GAMMA needs parentRefs: [{group: "", kind: Service, name: <service>}])' };
  for (const parent of parents) {
    const entries = statuses.filter((s) => s.parentRef?.name === parent && (s.parentRef.kind === undefined || s.parentRef.kind === 'Service'));
    if (entries.length === 0) return { ok: false, message: `no mesh controller has reported on parent Service ${parent} yet (status.parents is empty for it)` };
    for (const type of ['Accepted', 'ResolvedRefs']) {
      const c = entries.flatMap((e) => e.conditions ?? []).find((x) => x.type === type);
      if (!c || c.observedGeneration !== generation) return { ok: false, message: `waiting for the mesh to report ${type} for generation ${String(generation)} on parent Service ${parent}` };
      if (c.status !== 'True') return { ok: false, message: `the mesh reports ${type}=${String(c.status)} on parent Service ${parent} (${String(c.reason ?? '')}${c.message ? `: ${String(c.message)}` : ''})` };
    }
  }
  return { ok: true, message: `accepted for generation ${String(generation)}` };
}

/** The provider-neutral view of the managed rule(s). */
export function ruleView(rules: ManagedRule[], t: HttpRouteTarget, route: unknown): RouteView {
  const meta = (route as { metadata?: { generation?: unknown; uid?: unknown } }).metadata;
  const first = rules[0];
  const pair = first ? first.stableWeight + first.canaryWeight : 0;
  return {
    isAt: (percent: number) => rules.every((r) => ruleAt(r, percent)),
    canaryAtLeast: (percent: number) => rules.every((r) => r.canaryWeight >= ruleWeightsFor(r, percent).canary),
    canaryPercent: first && pair > 0 ? Math.round((first.canaryWeight * 100) / pair) : 0,
    revision: typeof meta?.generation === 'number' ? meta.generation : 0,
    uid: typeof meta?.uid === 'string' ? meta.uid : '',
    describe: rules.map((r) => describeSplit(r, { stable: t.stableService, canary: t.canaryService }, 'rule')).join('; '),
    applied: routeApplied(route),
  };
}
