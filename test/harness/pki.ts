import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

/** Paths of the certificates and keys a test control plane needs. */
export interface Pki {
  dir: string;
  /** Signs the apiserver's serving certificate; clients trust it. */
  servingCaCert: string;
  servingCert: string;
  servingKey: string;
  /** The apiserver accepts client certificates signed by this CA. */
  clientCaCert: string;
  /** Its key: signs further client identities (issueClientCertificate). */
  clientCaKey: string;
  /** CN=admin, O=system:masters: bypasses RBAC, like kubeadm's admin.conf. */
  adminCert: string;
  adminKey: string;
  /** RSA pair the apiserver signs and verifies service-account tokens with. */
  serviceAccountKey: string;
  serviceAccountPub: string;
}

// Our own config, so that no extension comes from the system openssl.cnf
// (its v3_ca section would make every leaf a CA).
const CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost, IP:10.0.0.1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`;

async function openssl(args: string[]): Promise<void> {
  try {
    await run(OPENSSL, args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${stderr.trim() || String(err)}`);
  }
}

/** Creates every key and certificate under `dir` with openssl (P-256 for TLS: fast to generate). */
export async function generatePki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, CONFIG);
  const p = (name: string) => join(dir, name);
  const pki: Pki = {
    dir,
    servingCaCert: p('serving-ca.crt'),
    servingCert: p('apiserver.crt'),
    servingKey: p('apiserver.key'),
    clientCaCert: p('client-ca.crt'),
    clientCaKey: p('client-ca.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc'];
  const common = ['-config', config, '-days', '3650'];
  const selfSigned = (key: string, cert: string, cn: string) =>
    openssl(['req', '-x509', ...newKey, '-keyout', key, '-out', cert, '-subj', `/CN=${cn}`, ...common, '-extensions', 'ca']);
  const signed = (caCert: string, caKey: string, key: string, cert: string, subj: string, ext: string) =>
    openssl(['req', '-x509', ...newKey, '-keyout', key, '-out', cert, '-subj', subj, '-CA', caCert, '-CAkey', caKey, ...common, '-extensions', ext]);

  await Promise.all([
    selfSigned(p('serving-ca.key'), pki.servingCaCert, 'canary-operator-test-serving-ca').then(() =>
      signed(pki.servingCaCert, p('serving-ca.key'), pki.servingKey, pki.servingCert, '/CN=kube-apiserver', 'serving'),
    ),
    selfSigned(pki.clientCaKey, pki.clientCaCert, 'canary-operator-test-client-ca').then(() =>
      signed(pki.clientCaCert, pki.clientCaKey, pki.adminKey, pki.adminCert, '/O=system:masters/CN=admin', 'client'),
    ),
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', pki.serviceAccountKey]).then(() =>
      openssl(['pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub]),
    ),
  ]);
  return pki;
}

export interface ClientIdentity {
  /** The user name the apiserver sees (the certificate's CN), e.g. canary-operator-bench. */
  user: string;
  /** Its groups (one O each), e.g. ["system:masters"]. */
  groups?: string[];
}

/** Subject of a client certificate: one O per group, then the CN; "/" and "=" in names would break it. */
export function clientSubject(identity: ClientIdentity): string {
  const parts = [...(identity.groups ?? []).map((g) => `O=${g}`), `CN=${identity.user}`];
  for (const part of parts) {
    if (/[/\\+]/.test(part.slice(part.indexOf('=') + 1))) throw new Error(`client identity: "${part}" contains "/", "\\" or "+"`);
  }
  return `/${parts.join('/')}`;
}

/**
 * A client certificate of its own for `identity`, signed by the client CA, so
 * the apiserver (and its audit log) tells that client's requests apart from
 * the admin's. Files are named after the user under the PKI dir.
 */
export async function issueClientCertificate(pki: Pki, identity: ClientIdentity): Promise<{ cert: string; key: string }> {
  const base = identity.user.replace(/[^A-Za-z0-9_.-]/g, '_');
  const cert = join(pki.dir, `${base}.crt`);
  const key = join(pki.dir, `${base}.key`);
  await openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
    '-keyout', key, '-out', cert, '-subj', clientSubject(identity),
    '-CA', pki.clientCaCert, '-CAkey', pki.clientCaKey,
    '-config', join(pki.dir, 'openssl.cnf'), '-days', '3650', '-extensions', 'client',
  ]);
  return { cert, key };
}
