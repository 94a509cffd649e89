// Weighted routing by a Gateway API HTTPRoute attached to a Service (GAMMA:
// the mesh applies the route to traffic addressed to that Service), as
// Istio's sidecars or waypoints do. Pure functions over plain objects.
//
// A route applies to a host when one of its spec.parentRefs is that Service:
// kind Service, group "" (or absent in objects that never went through the
// API server, whose schema defaults an absent group to
// gateway.networking.k8s.io, i.e. a Gateway parent), the host's name, and no
// namespace or the host's. Several routes for one Service: the oldest, then
// by name (Gateway API's conflict order).
//
// Rules: a rule matches every request when it has no matches or one of its
// matches is empty or only `path: PathPrefix /` (the schema's default for a
// rule without matches). Rules with narrower matches (headers, query, method,
// other paths) each take `matchShare` of the requests still unrouted, in
// order; they are more specific, so Gateway API's precedence puts them before
// the match-all rule wherever they stand. The first match-all rule takes the
// rest; with none, the rest is unrouted (404 NR). Within a rule the
// backendRefs share its traffic by weight (absent weight 1, weight 0 nothing);
// a rule whose weights are all 0, or without backendRefs, answers 500.
import type { KubeObjectLike } from './routing.js';

export interface HttpRouteLike extends KubeObjectLike {
  metadata?: KubeObjectLike['metadata'] & { generation?: number; resourceVersion?: string };
  spec?: unknown;
  status?: unknown;
}

export interface BackendRefLike {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}

export interface HttpRouteDestination {
  /** Index of the rule in spec.rules. */
  rule: number;
  ruleName?: string;
  backend: BackendRefLike;
  /** Fraction of all requests to the host, in [0, 1]. */
  share: number;
}

export interface HttpRouteSplit {
  destinations: HttpRouteDestination[];
  /** Fraction of requests that match a rule which has nowhere to send them (500). */
  noBackend: number;
  /** Fraction of requests no rule matches (404 NR). */
  unrouted: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a parentRef names the Service `service` in `namespace` (GAMMA). */
export function isServiceParent(ref: unknown, service: string, namespace: string): boolean {
  if (!isObject(ref)) return false;
  const group = ref.group ?? '';
  return group === '' && ref.kind === 'Service' && ref.name === service && (ref.namespace === undefined || ref.namespace === namespace);
}

/** The parentRefs of a route, as written. */
export function parentRefs(route: HttpRouteLike): Record<string, unknown>[] {
  const spec = isObject(route.spec) ? route.spec : {};
  return (Array.isArray(spec.parentRefs) ? spec.parentRefs : []).filter(isObject);
}

/** The HTTPRoute (among `routes`, all in `namespace`) attached to the Service, if any. */
export function selectHttpRoute<T extends HttpRouteLike>(routes: readonly T[], namespace: string, service: string): T | undefined {
  const time = (o: T) => new Date(o.metadata?.creationTimestamp ?? 0).getTime();
  return routes
    .filter((r) => parentRefs(r).some((p) => isServiceParent(p, service, namespace)))
    .sort((a, b) => time(a) - time(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
}

/** Whether one HTTPRouteMatch matches every request. */
function matchesEverything(match: unknown): boolean {
  if (!isObject(match)) return false;
  const { path, headers, queryParams, method } = match;
  const narrowing = (Array.isArray(headers) && headers.length > 0) || (Array.isArray(queryParams) && queryParams.length > 0) || method !== undefined;
  if (narrowing) return false;
  if (path === undefined) return true;
  return isObject(path) && (path.type ?? 'PathPrefix') === 'PathPrefix' && (path.value ?? '/') === '/';
}

function isMatchAll(rule: Record<string, unknown>): boolean {
  const matches = rule.matches;
  return !Array.isArray(matches) || matches.length === 0 || matches.some(matchesEverything);
}

function backendRefsOf(rule: Record<string, unknown>): { ref: BackendRefLike; weight: number }[] {
  return (Array.isArray(rule.backendRefs) ? rule.backendRefs : [])
    .filter((b): b is Record<string, unknown> => isObject(b) && typeof b.name === 'string')
    .map((b) => {
      const ref: BackendRefLike = { name: b.name as string };
      if (typeof b.group === 'string') ref.group = b.group;
      if (typeof b.kind === 'string') ref.kind = b.kind;
      if (typeof b.namespace === 'string') ref.namespace = b.namespace;
      if (typeof b.port === 'number') ref.port = b.port;
      const w = b.weight === undefined ? 1 : typeof b.weight === 'number' && Number.isFinite(b.weight) && b.weight > 0 ? b.weight : 0;
      return { ref, weight: w };
    });
}

/** How an HTTPRoute's rules split the requests to its Service, given the chance a request matches a narrower match. */
export function splitHttpRoute(route: HttpRouteLike, matchShare: number): HttpRouteSplit {
  const spec = isObject(route.spec) ? route.spec : {};
  const rules = (Array.isArray(spec.rules) ? spec.rules : []).filter(isObject);
  const destinations: HttpRouteDestination[] = [];
  let remaining = 1;
  let noBackend = 0;
  const send = (index: number, take: number) => {
    const rule = rules[index]!;
    const backends = backendRefsOf(rule);
    const total = backends.reduce((s, b) => s + b.weight, 0);
    if (total <= 0) {
      noBackend += take;
      return;
    }
    for (const b of backends) {
      if (b.weight <= 0) continue;
      const d: HttpRouteDestination = { rule: index, backend: b.ref, share: (take * b.weight) / total };
      if (typeof rule.name === 'string') d.ruleName = rule.name;
      destinations.push(d);
    }
  };
  rules.forEach((rule, i) => {
    if (isMatchAll(rule) || remaining <= 0) return;
    const take = remaining * matchShare;
    remaining -= take;
    if (take > 0) send(i, take);
  });
  const catchAll = rules.findIndex(isMatchAll);
  if (catchAll >= 0 && remaining > 0) {
    send(catchAll, remaining);
    remaining = 0;
  }
  return { destinations, noBackend, unrouted: remaining };
}

/** Why a backendRef cannot be used (a Gateway API ResolvedRefs reason), or undefined when it names an existing Service in the route's namespace. */
export function backendRefProblem(
  ref: BackendRefLike,
  routeNamespace: string,
  serviceExists: (name: string) => boolean,
): { reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound'; message: string } | undefined {
  if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') {
    return { reason: 'InvalidKind', message: `backend ${ref.group ?? ''}/${ref.kind}/${ref.name} is not a Service` };
  }
  // Cross-namespace backends need a ReferenceGrant, which the simulator does not read.
  if (ref.namespace !== undefined && ref.namespace !== routeNamespace) {
    return { reason: 'RefNotPermitted', message: `backend ${ref.namespace}/${ref.name} is in another namespace (ReferenceGrants are not simulated)` };
  }
  if (!serviceExists(ref.name)) return { reason: 'BackendNotFound', message: `backend Service ${routeNamespace}/${ref.name} not found` };
  return undefined;
}

/** Every backendRef of every rule, as written. */
export function allBackendRefs(route: HttpRouteLike): BackendRefLike[] {
  const spec = isObject(route.spec) ? route.spec : {};
  return (Array.isArray(spec.rules) ? spec.rules : []).filter(isObject).flatMap((r) => backendRefsOf(r).map((b) => b.ref));
}
