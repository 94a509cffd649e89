// What a release names: its spec's route, the route of the release in effect
// (status.target, which stays while an invalid or edited spec says otherwise)
// and a replaced release's route still to be restored (status.restore). The
// routes ("Kind/name") are what two releases can compete for, so the work
// queue runs the releases naming one route one at a time; `refs` adds the
// objects that wake a release when they change (the provider names them).
import { RouteRefSchema } from '../api/status.js';
import type { RouteRef } from '../core/plan.js';
import { specRoute } from '../api/validate.js';
import type { CanaryReleaseObject } from './ports.js';

export interface NamedObjects {
  /** The route objects, as "Kind/name". */
  routes: string[];
  /** Everything the providers say these routes involve, as "Kind/name". */
  refs: string[];
}

export type ReferencesOf = (ref: RouteRef, stable: string, canary: string) => string[];

export function namedBy(r: CanaryReleaseObject, references: ReferencesOf): NamedObjects {
  const st = (r.status ?? {}) as { target?: unknown; stableSubset?: unknown; canarySubset?: unknown; restore?: { target?: unknown; stableSubset?: unknown; canarySubset?: unknown } };
  const refs = new Set<string>();
  const routes = new Set<string>();
  const add = (ref: RouteRef, stable: unknown, canary: unknown) => {
    routes.add(`${ref.kind}/${ref.name}`);
    if (typeof stable === 'string' && typeof canary === 'string') for (const x of references(ref, stable, canary)) refs.add(x);
  };
  const fromSpec = specRoute(r.spec);
  if (fromSpec) add(fromSpec.ref, fromSpec.stable, fromSpec.canary);
  for (const [target, stable, canary] of [[st.target, st.stableSubset, st.canarySubset], [st.restore?.target, st.restore?.stableSubset, st.restore?.canarySubset]] as const) {
    const ref = RouteRefSchema.safeParse(target);
    if (ref.success) add(ref.data, stable, canary);
  }
  return { routes: [...routes], refs: [...refs] };
}
