// Which Istio data plane carries a host's traffic, from the labels Istio
// reads: sidecars (the default), or ambient mode, with or without a waypoint.
//
//   istio.io/dataplane-mode: ambient     on the namespace or the Service: ambient
//   istio.io/use-waypoint: NAME          on the Service, else its namespace: the waypoint
//                                        ("none" on the Service opts it out of the namespace's)
//   istio.io/use-waypoint-namespace: NS  beside it: the waypoint lives in NS
//
// The waypoint is taken as bound when the label names it; the simulator does
// not look for its Gateway or Deployment. Pure functions over plain objects.
import type { KubeObjectLike } from './routing.js';

export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE_LABEL = 'istio.io/use-waypoint-namespace';

export interface Waypoint {
  name: string;
  namespace: string;
}

export type Dataplane = { mode: 'sidecar' } | { mode: 'ambient'; waypoint?: Waypoint };

/** The data plane of the Service `service` (its object may be missing) in the Namespace `namespace` (likewise). */
export function dataplaneOf(namespaceName: string, namespace: KubeObjectLike | undefined, service: KubeObjectLike | undefined): Dataplane {
  const nsLabels = namespace?.metadata?.labels ?? {};
  const svcLabels = service?.metadata?.labels ?? {};
  const ambient = svcLabels[DATAPLANE_MODE_LABEL] === 'ambient' || (nsLabels[DATAPLANE_MODE_LABEL] === 'ambient' && svcLabels[DATAPLANE_MODE_LABEL] === undefined);
  if (!ambient) return { mode: 'sidecar' };
  const from = svcLabels[USE_WAYPOINT_LABEL] !== undefined ? svcLabels : nsLabels;
  const name = from[USE_WAYPOINT_LABEL];
  if (name === undefined || name === '' || name === 'none') return { mode: 'ambient' };
  return { mode: 'ambient', waypoint: { name, namespace: from[USE_WAYPOINT_NAMESPACE_LABEL] || namespaceName } };
}
