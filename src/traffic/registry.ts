// The traffic providers this operator knows, in one place. Adding a provider
// means one folder (its spec section, route logic, watches, RBAC notes) and
// one line here and in route-spec-fields.ts.
import { gatewayApiProvider } from './gateway-api/http-route-provider.js';
import { istioProvider } from './istio/istio-traffic-router.js';
import type { ProviderFactory } from './provider.js';

export interface ProviderSettings {
  /** ISTIO_API_VERSION: pin networking.istio.io's version instead of the newest served. */
  istioApiVersion?: string | undefined;
}

export function providerFactories(settings: ProviderSettings): ProviderFactory[] {
  return [istioProvider(settings.istioApiVersion), gatewayApiProvider()];
}
