// Every traffic provider's spec section, and how each resolves (spec side only:
// no cluster access, so the schema and validation stay light). A new provider
// adds its section and resolver here, and its runtime in registry.ts.
import { GATEWAY_API_SPEC_FIELDS, httpRouteSpec } from './gateway-api/http-route-spec.js';
import { ISTIO_SPEC_FIELDS, istioRouteSpec } from './istio/istio-spec.js';
import type { RouteSpec } from './route-spec.js';

export const ROUTE_SPEC_FIELDS = { ...ISTIO_SPEC_FIELDS, ...GATEWAY_API_SPEC_FIELDS };

export const ROUTE_SPECS: readonly RouteSpec[] = [istioRouteSpec, httpRouteSpec];
