// The harness's audit option: the policy logs only the measured client (and
// the named creations), and kube-apiserver gets the audit flags only when asked.
import { describe, expect, test } from '@jest/globals';
import { auditPolicy } from '../harness/audit-policy.js';
import { apiserverArgs, type KubeApiserverOptions } from '../harness/kube-apiserver.js';
import type { Pki } from '../harness/pki.js';

const pki: Pki = {
  dir: '/pki', servingCaCert: '/pki/sca', servingCert: '/pki/sc', servingKey: '/pki/sk', clientCaCert: '/pki/cca', clientCaKey: '/pki/ccak',
  adminCert: '/pki/a', adminKey: '/pki/ak', serviceAccountKey: '/pki/sa', serviceAccountPub: '/pki/sap',
};
const base: KubeApiserverOptions = { binary: 'kube-apiserver', workDir: '/w', pki, etcdUrl: 'http://127.0.0.1:1', port: 6443 };

describe('auditPolicy', () => {
  test('logs every request of the named users at Metadata, the named creations by anyone, and nothing else', () => {
    const policy = auditPolicy({ users: ['canary-operator-bench'], creates: [{ group: 'canary-operator.dev', resource: 'canaryreleases' }] });
    expect(policy).toEqual({
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      rules: [
        { level: 'Metadata', users: ['canary-operator-bench'] },
        { level: 'Metadata', verbs: ['create'], resources: [{ group: 'canary-operator.dev', resources: ['canaryreleases'] }] },
        { level: 'None' },
      ],
    });
  });

  test('refuses a policy that would log nobody', () => {
    expect(() => auditPolicy({ users: [] })).toThrow('at least one user');
  });
});

describe('apiserverArgs', () => {
  test('has no audit flags unless asked', () => {
    expect(apiserverArgs(base, 'https://127.0.0.1:6443').filter((a) => a.startsWith('--audit'))).toEqual([]);
  });

  test('passes the policy file and log path, logging synchronously to one file', () => {
    const args = apiserverArgs({ ...base, audit: { policyFile: '/w/policy.json', logPath: '/w/audit.log' } }, 'https://127.0.0.1:6443');
    expect(args).toEqual(expect.arrayContaining([
      '--audit-policy-file=/w/policy.json',
      '--audit-log-path=/w/audit.log',
      '--audit-log-mode=blocking',
      '--audit-log-format=json',
    ]));
    expect(args).toContain('--authorization-mode=RBAC');
  });
});
