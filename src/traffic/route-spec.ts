// The spec side of a traffic provider: the section of the CanaryRelease spec
// that names its route, and how that section becomes the provider-neutral
// route the plan carries. No cluster access here (see registry.ts for the rest).
import type { CanaryReleaseSpec } from '../api/spec.js';
import type { FieldProblem } from '../api/validate.js';
import type { ResolvedRoute } from '../core/plan.js';

export interface RouteSpec {
  /** The provider's registry name, recorded in status (RouteRef.provider). */
  provider: string;
  /** The spec field whose presence selects this provider ('virtualService', 'httpRoute'). */
  field: keyof CanaryReleaseSpec & string;
  /** What a user writes to choose it, for the message when no provider is named. */
  example: string;
  /** The route and versions of a spec that selects this provider, or problems naming fields. */
  resolve(spec: CanaryReleaseSpec): { ok: true; route: ResolvedRoute } | { ok: false; problems: FieldProblem[] };
}

/** A field the provider does not use, set anyway: refused so nobody thinks it does something. */
export function unused(field: string, provider: string): FieldProblem {
  return { field, problem: `is not used with ${provider}; remove it` };
}
