// Client identities of their own: the subject carries the user as CN and each
// group as O, and the issued certificate is a client certificate of the
// harness's client CA (checked with openssl, as the apiserver would).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { clientSubject, generatePki, issueClientCertificate } from '../harness/pki.js';

describe('clientSubject', () => {
  test('puts each group in an O and the user in the CN', () => {
    expect(clientSubject({ user: 'canary-operator-bench', groups: ['system:masters'] })).toBe('/O=system:masters/CN=canary-operator-bench');
    expect(clientSubject({ user: 'alice' })).toBe('/CN=alice');
  });

  test('refuses names that would change the subject', () => {
    expect(() => clientSubject({ user: 'a/O=system:masters' })).toThrow('contains');
  });
});

describe('issueClientCertificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canary-pki-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('signs a client certificate for the identity with the client CA', async () => {
    const pki = await generatePki(join(dir, 'pki'));
    const { cert } = await issueClientCertificate(pki, { user: 'canary-operator-bench', groups: ['system:masters'] });
    const text = execFileSync('/usr/bin/openssl', ['x509', '-in', cert, '-noout', '-subject', '-ext', 'extendedKeyUsage'], { encoding: 'utf8' });
    expect(text).toMatch(/subject=O\s*=\s*system:masters, CN\s*=\s*canary-operator-bench/);
    expect(text).toContain('TLS Web Client Authentication');
    const verified = execFileSync('/usr/bin/openssl', ['verify', '-CAfile', pki.clientCaCert, cert], { encoding: 'utf8' });
    expect(verified.trim()).toBe(`${cert}: OK`);
  }, 30_000);
});
