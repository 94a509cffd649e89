import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PluginError } from '../../../src/plugin/errors.js';
import { loadKubeConfig, resolveNamespace } from '../../../src/plugin/kube-config.js';

const dir = mkdtempSync(join(tmpdir(), 'kubectl-canary-kc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster: {server: https://dev.example:6443}
- name: prod
  cluster: {server: https://prod.example:6443}
users:
- name: me
  user: {token: abc}
contexts:
- name: dev
  context: {cluster: dev, user: me}
- name: prod
  context: {cluster: prod, user: me, namespace: bookinfo}
current-context: dev
`;

describe('kubeconfig, context and namespace', () => {
  const file = join(dir, 'config');
  writeFileSync(file, KUBECONFIG);

  it('loads --kubeconfig and uses its current context, namespace "default" when the context has none', () => {
    const kc = loadKubeConfig({ kubeconfig: file });
    expect(kc.getCurrentCluster()?.server).toBe('https://dev.example:6443');
    expect(resolveNamespace(kc, undefined)).toBe('default');
    expect(resolveNamespace(kc, 'shop')).toBe('shop');
  });

  it('switches to --context and takes the namespace from it', () => {
    const kc = loadKubeConfig({ kubeconfig: file, context: 'prod' });
    expect(kc.getCurrentContext()).toBe('prod');
    expect(kc.getCurrentCluster()?.server).toBe('https://prod.example:6443');
    expect(resolveNamespace(kc, undefined)).toBe('bookinfo');
  });

  it('names an unknown context and lists the known ones', () => {
    expect(() => loadKubeConfig({ kubeconfig: file, context: 'staging' })).toThrow(new PluginError('context "staging" not found in the kubeconfig (contexts: dev, prod)'));
  });

  it('says which kubeconfig cannot be read', () => {
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'missing') })).toThrow(PluginError);
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'missing') })).toThrow(`cannot load kubeconfig ${join(dir, 'missing')}`);
  });
});
