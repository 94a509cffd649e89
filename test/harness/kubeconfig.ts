import { writeFile } from 'node:fs/promises';

export interface KubeconfigSpec {
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Used for the cluster, user and context names. */
  name: string;
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

/**
 * Writes a self-contained kubeconfig (certificates inlined, so it survives
 * being copied) with one cluster, one user and the current context set.
 * JSON is valid YAML, and kubectl and client-node both read it.
 */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: spec.name, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } }],
    users: [
      {
        name: `${spec.name}-admin`,
        user: { 'client-certificate-data': b64(spec.clientCertPem), 'client-key-data': b64(spec.clientKeyPem) },
      },
    ],
    contexts: [{ name: spec.name, context: { cluster: spec.name, user: `${spec.name}-admin`, namespace: 'default' } }],
    'current-context': spec.name,
    preferences: {},
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
