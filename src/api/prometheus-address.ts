// Which Prometheus a release may make the operator query. The operator
// fetches whatever spec.analysis.prometheus.address names, from inside the
// cluster, so an unchecked address is a request forgery (SSRF): a tenant could
// point it at any in-cluster service. The cluster admin lists the allowed base
// URLs (PROMETHEUS_ALLOWED_ADDRESSES; by default only PROMETHEUS_ADDRESS).
//
// Match rule: both URLs are http or https; scheme, host and port (the default
// port made explicit) are equal; and the release's path, trailing slashes
// removed, equals the allowed path or continues it after a "/". A release's
// address may carry no user name or password, query, fragment or
// percent-encoding in its path, so no spelling can reach around the rule
// (dot segments are resolved by the URL parser before comparing).

/** Why a release's address is refused, or undefined when it may be used. */
export function prometheusAddressProblem(address: string, allowed: readonly string[] | undefined, hasDefault = true): string | undefined {
  const shape = addressShapeProblem(address);
  if (shape) return shape;
  if (allowed === undefined) return undefined;
  if (allowed.some((a) => addressAllowedBy(address, a))) return undefined;
  return `${JSON.stringify(address)} is not in the operator's allowed Prometheus addresses (PROMETHEUS_ALLOWED_ADDRESSES); ask the cluster admin to add it${hasDefault ? ', or remove the field to use the default' : ''}`;
}

/** Problems an address has whatever the allowlist says (also used for the allowlist's own entries). */
export function addressShapeProblem(address: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return `${JSON.stringify(address)} is not a URL; expected one such as http://prometheus.istio-system:9090`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL (not ${url.protocol})`;
  if (url.username || url.password) return 'must not contain a user name or password';
  if (url.search || url.hash || address.includes('?') || address.includes('#')) return 'must not have a query string or fragment';
  if (url.pathname.includes('%')) return 'must not contain percent-encoded characters in its path';
  return undefined;
}

/** Whether `address` is `allowed` or below its path, under the match rule above. */
export function addressAllowedBy(address: string, allowed: string): boolean {
  const a = normalise(address);
  const b = normalise(allowed);
  if (!a || !b || a.origin !== b.origin) return false;
  return a.path === b.path || a.path.startsWith(`${b.path}/`);
}

function normalise(address: string): { origin: string; path: string } | undefined {
  if (addressShapeProblem(address)) return undefined;
  const url = new URL(address);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return { origin: `${url.protocol}//${url.hostname}:${port}`, path: url.pathname.replace(/\/+$/, '') };
}
