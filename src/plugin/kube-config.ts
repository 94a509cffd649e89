// Which cluster, user and namespace: --kubeconfig / --context / -n, else
// kubectl's defaults ($KUBECONFIG, ~/.kube/config, the context's namespace).
import { KubeConfig } from '@kubernetes/client-node';
import { PluginError } from './errors.js';

export interface ConnectionFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export function loadKubeConfig(flags: ConnectionFlags): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    const where = flags.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config';
    throw new PluginError(`cannot load kubeconfig ${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new PluginError(`context "${flags.context}" not found in the kubeconfig${known.length ? ` (contexts: ${known.join(', ')})` : ''}`);
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) throw new PluginError('the kubeconfig has no current cluster: pass --kubeconfig or --context');
  return kc;
}

/** -n, else the current context's namespace, else "default" (as kubectl does). */
export function resolveNamespace(kc: KubeConfig, flag: string | undefined): string {
  if (flag) return flag;
  return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}
