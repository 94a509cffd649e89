// The status a mesh controller (istiod) writes on a GAMMA HTTPRoute: one
// status.parents[] entry per Service parent it serves, with the conditions
// Accepted and ResolvedRefs for the route's generation. Entries of other
// controllers stay as they are, in place. Pure functions over plain objects.
import { allBackendRefs, backendRefProblem, isServiceParent, parentRefs, type HttpRouteLike } from './http-route.js';

export const ISTIO_CONTROLLER_NAME = 'istio.io/gateway-controller';

export interface RouteCondition {
  type: 'Accepted' | 'ResolvedRefs';
  status: 'True' | 'False';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface RouteParentStatus {
  parentRef: Record<string, unknown>;
  controllerName: string;
  conditions: RouteCondition[];
}

export interface RouteStatusInputs {
  /** Whether the Service with this name (in the route's namespace) is one this controller serves. */
  serves: (service: string) => boolean;
  /** Whether a Service with this name exists in the route's namespace. */
  serviceExists: (service: string) => boolean;
  /** For lastTransitionTime of conditions whose status changes. */
  now: Date;
  controllerName?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with sorted keys: equal for equal values whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** The route's status.parents as stored. */
export function currentParents(route: HttpRouteLike): Record<string, unknown>[] {
  const status = isObject(route.status) ? route.status : {};
  return (Array.isArray(status.parents) ? status.parents : []).filter(isObject);
}

/** metav1.Time as the API server writes it: seconds, UTC. */
const timestamp = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

function conditions(route: HttpRouteLike, previous: Record<string, unknown> | undefined, inputs: RouteStatusInputs): RouteCondition[] {
  const namespace = route.metadata?.namespace ?? '';
  const generation = route.metadata?.generation ?? 0;
  const problems = allBackendRefs(route)
    .map((ref) => backendRefProblem(ref, namespace, inputs.serviceExists))
    .filter((p) => p !== undefined);
  const before = (Array.isArray(previous?.conditions) ? previous.conditions : []).filter(isObject);
  // lastTransitionTime moves only when the condition's status does.
  const since = (type: string, status: string) => {
    const old = before.find((c) => c.type === type);
    return old && old.status === status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : timestamp(inputs.now);
  };
  const resolved: Omit<RouteCondition, 'observedGeneration' | 'lastTransitionTime'> =
    problems.length === 0
      ? { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references resolved' }
      : { type: 'ResolvedRefs', status: 'False', reason: problems[0]!.reason, message: problems.map((p) => p.message).join('; ') };
  return [
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Route was valid', observedGeneration: generation, lastTransitionTime: since('Accepted', 'True') },
    { ...resolved, observedGeneration: generation, lastTransitionTime: since('ResolvedRefs', resolved.status) },
  ];
}

/**
 * The status.parents the controller wants on `route`: its entries for the
 * Service parents it serves (recomputed for the current generation), other
 * controllers' entries untouched and in place, its stale entries dropped.
 */
export function desiredParents(route: HttpRouteLike, inputs: RouteStatusInputs): Record<string, unknown>[] {
  const controllerName = inputs.controllerName ?? ISTIO_CONTROLLER_NAME;
  const namespace = route.metadata?.namespace ?? '';
  const wanted = parentRefs(route).filter((p) => typeof p.name === 'string' && isServiceParent(p, p.name, namespace) && inputs.serves(p.name));
  const current = currentParents(route);
  const mine = (p: Record<string, unknown>) => p.controllerName === controllerName;
  const sameRef = (p: Record<string, unknown>, ref: Record<string, unknown>) => canonical(p.parentRef) === canonical(ref);
  const entry = (ref: Record<string, unknown>): RouteParentStatus => ({
    parentRef: ref,
    controllerName,
    conditions: conditions(route, current.find((p) => mine(p) && sameRef(p, ref)), inputs),
  });
  const out: Record<string, unknown>[] = [];
  for (const p of current) {
    if (!mine(p)) out.push(p);
    else {
      const ref = wanted.find((w) => sameRef(p, w));
      if (ref && !out.some((o) => mine(o) && sameRef(o, ref))) out.push({ ...entry(ref) });
    }
  }
  for (const ref of wanted) {
    if (!out.some((o) => mine(o) && sameRef(o, ref))) out.push({ ...entry(ref) });
  }
  return out;
}

/** Whether two status.parents lists say the same thing. */
export function sameParents(a: readonly unknown[], b: readonly unknown[]): boolean {
  return canonical(a) === canonical(b);
}
