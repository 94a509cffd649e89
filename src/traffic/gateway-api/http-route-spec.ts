// The Gateway API section of the spec: an HTTPRoute (GAMMA: its parentRef is
// the Service whose callers are routed), with one backend Service per version.
import { z } from 'zod';
import { objectName, ruleNames } from '../../api/spec-primitives.js';
import type { FieldProblem } from '../../api/validate.js';
import type { RouteSpec } from '../route-spec.js';
import { unused } from '../route-spec.js';

export const GATEWAY_API_PROVIDER = 'gateway-api';

export const GATEWAY_API_SPEC_FIELDS = {
  httpRoute: z.object({ name: objectName, rules: ruleNames.optional() }).optional(),
};

export const httpRouteSpec: RouteSpec = {
  provider: GATEWAY_API_PROVIDER,
  field: 'httpRoute',
  example: 'spec.httpRoute (Gateway API, with a backend Service per version)',
  resolve(spec) {
    const problems: FieldProblem[] = [];
    const route = spec.httpRoute;
    if (!route) return { ok: false, problems: [{ field: 'spec.httpRoute', problem: 'is required' }] };
    if (spec.service) problems.push(unused('spec.service', "spec.httpRoute (the route's parentRefs name the Service)"));
    if (spec.destinationRule) problems.push(unused('spec.destinationRule', 'spec.httpRoute (versions are backend Services)'));
    for (const role of ['stable', 'canary'] as const) {
      if (!spec[role].service) problems.push({ field: `spec.${role}.service`, problem: "is required with spec.httpRoute (the version's backend Service)" });
      if (spec[role].subset) problems.push(unused(`spec.${role}.subset`, 'spec.httpRoute (name the backend Service instead)'));
    }
    if (spec.stable.service && spec.stable.service === spec.canary.service) {
      problems.push({ field: 'spec.canary.service', problem: `must differ from spec.stable.service (both are "${spec.stable.service}")` });
    }
    if (route.rules && new Set(route.rules).size !== route.rules.length) problems.push({ field: 'spec.httpRoute.rules', problem: 'names a rule more than once' });
    if (problems.length || !spec.stable.service || !spec.canary.service) return { ok: false, problems };
    return {
      ok: true,
      route: {
        ref: { provider: GATEWAY_API_PROVIDER, kind: 'HTTPRoute', name: route.name, ...(route.rules ? { rules: [...route.rules] } : {}), scope: {}, uses: {} },
        stable: spec.stable.service,
        canary: spec.canary.service,
      },
    };
  },
};
