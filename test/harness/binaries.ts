import { join } from 'node:path';
import { runSetupScript } from './setup-script.js';

export interface ControlPlaneBinaries {
  binDir: string;
  kubeApiserver: string;
  etcd: string;
}

/**
 * Runs scripts/control-plane/build.sh, which builds kube-apiserver and etcd
 * from Go modules the first time and returns the cached ones afterwards.
 * Its stderr is progress for the user; the bin dir is its last stdout line.
 */
export async function buildControlPlaneBinaries(root: string, log: (line: string) => void): Promise<ControlPlaneBinaries> {
  const binDir = await runSetupScript(join(root, 'scripts', 'control-plane', 'build.sh'), [], root, log);
  return { binDir, kubeApiserver: join(binDir, 'kube-apiserver'), etcd: join(binDir, 'etcd') };
}
