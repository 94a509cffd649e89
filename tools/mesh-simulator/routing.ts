// Weighted routing, as a sidecar applies a VirtualService's HTTP routes to
// mesh traffic. Pure functions over plain objects.
//
// Routes are tried in order. A route with a `match` block takes each request
// still unrouted with probability `matchShare` (so with one match route it gets
// exactly matchShare of the traffic); the first route without `match` takes the
// rest, and routes after it are unreachable. Within a route the destinations
// share its traffic by weight (normalised by their sum); a lone destination
// without weight gets 100%, a missing weight next to others counts as 0.
// Traffic no route takes (only match routes, a route with no destinations or
// all weights 0, redirect/directResponse routes) is "unrouted": Envoy answers
// it with 404 and response flag NR.

export interface KubeObjectLike {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: Date | string; annotations?: Record<string, string>; labels?: Record<string, string> };
}

export interface VirtualServiceLike extends KubeObjectLike {
  spec?: unknown;
}

export interface SplitDestination {
  /** Index of the HTTP route in spec.http. */
  route: number;
  routeName?: string;
  /** destination.host as written (short, namespaced or FQDN). */
  host: string;
  subset?: string;
  /** Fraction of all requests to the service, in [0, 1]. */
  share: number;
}

export interface TrafficSplit {
  destinations: SplitDestination[];
  /** Fraction of requests no route takes. */
  unrouted: number;
}

interface RawDestination {
  destination?: { host?: unknown; subset?: unknown };
  weight?: unknown;
}
interface RawRoute {
  name?: unknown;
  match?: unknown;
  route?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a host names the service: short, namespaced or FQDN form. */
export function hostMatches(host: unknown, service: string, namespace: string): boolean {
  if (typeof host !== 'string') return false;
  return host === service || host === `${service}.${namespace}` || host === `${service}.${namespace}.svc` || host.startsWith(`${service}.${namespace}.svc.`);
}

/**
 * Service name and namespace a destination host refers to, resolved from the
 * VirtualService's namespace; namespace undefined for hosts outside the mesh's
 * service naming (e.g. api.example.com).
 */
export function parseServiceHost(host: string, fromNamespace: string): { service: string; namespace: string | undefined } {
  const parts = host.split('.');
  if (parts.length === 1) return { service: host, namespace: fromNamespace };
  if (parts.length === 2) return { service: parts[0]!, namespace: parts[1]! };
  if (parts[2] === 'svc') return { service: parts[0]!, namespace: parts[1]! };
  return { service: host, namespace: undefined };
}

/** Whether a VirtualService applies to sidecar (mesh) traffic: no gateways, or "mesh" among them. */
function appliesToMesh(spec: Record<string, unknown>): boolean {
  const gateways = spec.gateways;
  return !Array.isArray(gateways) || gateways.length === 0 || gateways.includes('mesh');
}

/**
 * The VirtualService in `namespace` that routes mesh traffic for the service;
 * with several, the oldest (as Istio resolves conflicts), then by name.
 */
export function selectVirtualService<T extends VirtualServiceLike>(vss: readonly T[], namespace: string, service: string): T | undefined {
  const time = (o: T) => new Date(o.metadata?.creationTimestamp ?? 0).getTime();
  return vss
    .filter((vs) => {
      const spec = vs.spec;
      if (!isObject(spec) || !appliesToMesh(spec)) return false;
      return Array.isArray(spec.hosts) && spec.hosts.some((h) => hostMatches(h, service, namespace));
    })
    .sort((a, b) => time(a) - time(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
}

/** A route's destinations with normalised weights (summing to 1), or [] if it sends nowhere. */
function routeWeights(route: RawRoute): { host: string; subset?: string; weight: number }[] {
  const dests = (Array.isArray(route.route) ? route.route : []).filter(
    (d): d is RawDestination => isObject(d) && isObject(d.destination) && typeof d.destination.host === 'string',
  );
  const raw = dests.map((d) => {
    const w = typeof d.weight === 'number' && Number.isFinite(d.weight) && d.weight > 0 ? d.weight : 0;
    return { host: d.destination!.host as string, subset: typeof d.destination!.subset === 'string' ? d.destination!.subset : undefined, weight: dests.length === 1 && d.weight === undefined ? 100 : w };
  });
  const total = raw.reduce((s, d) => s + d.weight, 0);
  if (total <= 0) return [];
  return raw.map((d) => ({ ...d, weight: d.weight / total }));
}

/** How a VirtualService's HTTP routes split requests, given the chance a request matches a match block. */
export function splitTraffic(vs: VirtualServiceLike, matchShare: number): TrafficSplit {
  const spec = isObject(vs.spec) ? vs.spec : {};
  const routes = (Array.isArray(spec.http) ? spec.http : []).filter(isObject) as RawRoute[];
  const destinations: SplitDestination[] = [];
  let remaining = 1;
  let unrouted = 0;
  for (let i = 0; i < routes.length && remaining > 0; i++) {
    const route = routes[i]!;
    const hasMatch = Array.isArray(route.match) && route.match.length > 0;
    const take = hasMatch ? remaining * matchShare : remaining;
    remaining -= take;
    if (take > 0) {
      const weights = routeWeights(route);
      if (weights.length === 0) unrouted += take;
      for (const w of weights) {
        if (w.weight <= 0) continue;
        const d: SplitDestination = { route: i, host: w.host, share: take * w.weight };
        if (typeof route.name === 'string') d.routeName = route.name;
        if (w.subset !== undefined) d.subset = w.subset;
        destinations.push(d);
      }
    }
    if (!hasMatch) break;
  }
  return { destinations, unrouted: unrouted + remaining };
}

/**
 * The item whose interval of the cumulative shares holds `u` (in [0, 1)),
 * scaled to the shares' total so rounding never leaves a gap at the end;
 * undefined when no item has a positive share.
 */
export function pickByShare<T extends { share: number }>(items: readonly T[], u: number): T | undefined {
  const total = items.reduce((s, i) => s + Math.max(0, i.share), 0);
  if (total <= 0) return undefined;
  const target = u * total;
  let acc = 0;
  let last: T | undefined;
  for (const item of items) {
    if (item.share <= 0) continue;
    acc += item.share;
    last = item;
    if (target < acc) return item;
  }
  return last;
}
