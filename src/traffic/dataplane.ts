// Which Istio data plane carries a Service's traffic, from the labels Istio
// reads, so the gates read the metrics that exist: sidecars report as
// "destination"; in ambient mode L7 metrics (and L7 routing) come only from a
// waypoint, reporting as "waypoint"; without a waypoint there is neither.
//
//   istio.io/dataplane-mode: ambient   on the Service, else its namespace
//   istio.io/use-waypoint: NAME        on the Service, else its namespace ("none" opts out)
import type { KubernetesObject } from '@kubernetes/client-node';

export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';

export type Dataplane = { mode: 'sidecar' } | { mode: 'ambient'; waypoint?: string | undefined };

export function dataplaneOf(namespace: KubernetesObject | undefined, service: KubernetesObject | undefined): Dataplane {
  const ns = namespace?.metadata?.labels ?? {};
  const svc = service?.metadata?.labels ?? {};
  const mode = svc[DATAPLANE_MODE_LABEL] ?? ns[DATAPLANE_MODE_LABEL];
  if (mode !== 'ambient') return { mode: 'sidecar' };
  const waypoint = svc[USE_WAYPOINT_LABEL] ?? ns[USE_WAYPOINT_LABEL];
  return waypoint && waypoint !== 'none' ? { mode: 'ambient', waypoint } : { mode: 'ambient' };
}

/** The gates' reporter: the spec's, or for auto the one this data plane reports L7 metrics as. */
export function reporterFor(setting: 'auto' | 'destination' | 'waypoint' | 'source', dataplane: Dataplane | undefined): 'destination' | 'waypoint' | 'source' {
  if (setting !== 'auto') return setting;
  return dataplane?.mode === 'ambient' ? 'waypoint' : 'destination';
}

/** Why an ambient Service cannot be released by weights, and how to fix it. */
export function waypointMissing(namespace: string, service: string): string {
  return `Service ${namespace}/${service} is in Istio ambient mode without a waypoint, so nothing splits its traffic by weight or reports L7 metrics; `
    + `add one: istioctl waypoint apply -n ${namespace} && kubectl label service ${service} -n ${namespace} ${USE_WAYPOINT_LABEL}=waypoint`;
}
