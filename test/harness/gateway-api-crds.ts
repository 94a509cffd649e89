// The Gateway API standard-channel CRDs (HTTPRoute, Gateway, GatewayClass,
// ReferenceGrant, ...) at the version pinned in scripts/control-plane/versions.env,
// from the cache that scripts/control-plane/gateway-api-crds.sh fills from the
// Go module proxy (nothing of it is in git).
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runSetupScript } from './setup-script.js';

/** The directory holding the CRD files: `explicit`, else env GATEWAY_API_CRDS_DIR, else the cache (fetched on first use). */
export async function gatewayApiCrdsDir(root: string, log: (line: string) => void, explicit?: string): Promise<string> {
  const given = explicit || process.env.GATEWAY_API_CRDS_DIR;
  if (given) {
    if (!existsSync(given)) throw new Error(`Gateway API CRD directory ${given} does not exist`);
    return resolve(given);
  }
  return runSetupScript(join(root, 'scripts', 'control-plane', 'gateway-api-crds.sh'), [], root, log);
}

/**
 * The CRD files in `dir`, sorted. The standard channel also ships a
 * ValidatingAdmissionPolicy (gateway.networking.k8s.io_vap_*.yaml), which is
 * not a CRD: it is left out here as well as in the cache.
 */
export function gatewayApiCrdFiles(dir: string): string[] {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !f.includes('_vap_'))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no Gateway API CRD files in ${dir}`);
  return files;
}
