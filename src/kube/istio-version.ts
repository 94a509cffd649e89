// Which networking.istio.io version to speak: the newest the cluster serves
// (v1 since Istio 1.22, v1beta1 and v1alpha3 on older meshes), unless pinned.
import type { ApisApi } from '@kubernetes/client-node';

export const ISTIO_VERSIONS_BY_PREFERENCE = ['v1', 'v1beta1', 'v1alpha3'] as const;

export function chooseIstioVersion(served: string[], pinned?: string): string {
  if (pinned) {
    if (!served.includes(pinned)) {
      throw new Error(`ISTIO_API_VERSION=${pinned}, but the cluster serves networking.istio.io at: ${served.join(', ') || 'nothing (are the Istio CRDs installed?)'}`);
    }
    return pinned;
  }
  const v = ISTIO_VERSIONS_BY_PREFERENCE.find((p) => served.includes(p));
  if (!v) throw new Error(`the cluster does not serve VirtualServices at networking.istio.io ${ISTIO_VERSIONS_BY_PREFERENCE.join('/')}; install Istio's CRDs`);
  return v;
}

export async function discoverIstioVersion(apis: ApisApi, pinned?: string): Promise<string> {
  const groups = await apis.getAPIVersions();
  const group = groups.groups.find((g) => g.name === 'networking.istio.io');
  return chooseIstioVersion(group?.versions.map((v) => v.version) ?? [], pinned);
}
