// Which API groups and versions the cluster serves (discovery), so each
// traffic provider can tell whether its route kind exists here.
import type { ApisApi } from '@kubernetes/client-node';

export async function servedApiGroups(apis: ApisApi): Promise<Map<string, string[]>> {
  const groups = await apis.getAPIVersions();
  return new Map(groups.groups.map((g) => [g.name, g.versions.map((v) => v.version)]));
}
