// The Istio section of the spec: a VirtualService route, the DestinationRule
// that defines the subsets, the mesh host (a Service), and subsets as versions.
import { z } from 'zod';
import { dnsLabel, objectName, ruleNames } from '../../api/spec-primitives.js';
import type { FieldProblem } from '../../api/validate.js';
import type { RouteSpec } from '../route-spec.js';
import { unused } from '../route-spec.js';

export const ISTIO_PROVIDER = 'istio';

export const ISTIO_SPEC_FIELDS = {
  /** The mesh host: a Service in the release's namespace. */
  service: dnsLabel('a Service name').optional(),
  virtualService: z.object({ name: objectName, routes: ruleNames.optional() }).optional(),
  destinationRule: z.object({ name: objectName }).optional(),
};

export const istioRouteSpec: RouteSpec = {
  provider: ISTIO_PROVIDER,
  field: 'virtualService',
  example: 'spec.virtualService (Istio, with spec.destinationRule and subsets)',
  resolve(spec) {
    const problems: FieldProblem[] = [];
    const vs = spec.virtualService;
    if (!vs) return { ok: false, problems: [{ field: 'spec.virtualService', problem: 'is required' }] };
    if (!spec.service) problems.push({ field: 'spec.service', problem: 'is required with spec.virtualService (the mesh host whose traffic is split)' });
    if (!spec.destinationRule) problems.push({ field: 'spec.destinationRule', problem: 'is required with spec.virtualService (it defines the subsets)' });
    for (const role of ['stable', 'canary'] as const) {
      if (!spec[role].subset) problems.push({ field: `spec.${role}.subset`, problem: 'is required with spec.virtualService (a DestinationRule subset)' });
      if (spec[role].service) problems.push(unused(`spec.${role}.service`, 'spec.virtualService (name the subset instead)'));
    }
    if (spec.stable.subset && spec.stable.subset === spec.canary.subset) {
      problems.push({ field: 'spec.canary.subset', problem: `must differ from spec.stable.subset (both are "${spec.stable.subset}")` });
    }
    if (vs.routes && new Set(vs.routes).size !== vs.routes.length) problems.push({ field: 'spec.virtualService.routes', problem: 'names a route more than once' });
    if (problems.length || !spec.service || !spec.destinationRule || !spec.stable.subset || !spec.canary.subset) return { ok: false, problems };
    return {
      ok: true,
      route: {
        ref: {
          provider: ISTIO_PROVIDER, kind: 'VirtualService', name: vs.name, ...(vs.routes ? { rules: [...vs.routes] } : {}),
          scope: { service: spec.service }, uses: { destinationRule: spec.destinationRule.name },
        },
        stable: spec.stable.subset,
        canary: spec.canary.subset,
      },
    };
  },
};
