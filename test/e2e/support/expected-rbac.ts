// The operator's rights, as the issue states them (least privilege), in the
// "group/resource:verb[names]" form of expandRules(). The chart must grant
// exactly these; the e2e tests prove they are enough.
const rights = (groupResource: string, verbs: string[]) => verbs.map((v) => `${groupResource}:${v}`);

/** Granted by the ClusterRole (all namespaces), or by a Role in each watched namespace. */
export const OPERATOR_RIGHTS: readonly string[] = [
  ...rights('canary-operator.dev/canaryreleases', ['get', 'list', 'watch', 'patch']),
  ...rights('canary-operator.dev/canaryreleases/status', ['update', 'patch']),
  ...rights('networking.istio.io/virtualservices', ['get', 'list', 'watch', 'patch']),
  ...rights('networking.istio.io/destinationrules', ['get', 'list', 'watch']),
  ...rights('gateway.networking.k8s.io/httproutes', ['get', 'list', 'watch', 'patch']),
  ...rights('apps/deployments', ['list', 'watch']),
  ...rights('/services', ['list', 'watch']),
  ...rights('/events', ['create', 'patch']),
].sort();

/** The ClusterRole's (all namespaces): the operator rights, and reading Namespaces for their ambient labels. */
export const CLUSTER_RIGHTS: readonly string[] = [...OPERATOR_RIGHTS, ...rights('/namespaces', ['list', 'watch'])].sort();

/** Granted by the leader-election Role, in the release namespace only. */
export function leaseRights(leaseName: string): string[] {
  return ['coordination.k8s.io/leases:create', `coordination.k8s.io/leases:get[${leaseName}]`, `coordination.k8s.io/leases:update[${leaseName}]`].sort();
}
