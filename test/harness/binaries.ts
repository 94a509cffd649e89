import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

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
  const script = join(root, 'scripts', 'control-plane', 'build.sh');
  const child = spawn('bash', [script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const stderrLines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrLines.push(line);
    log(line);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`${script} exited with ${code}:\n${stderrLines.slice(-30).join('\n')}`);
  }
  const binDir = stdout.trim().split('\n').pop()?.trim();
  if (!binDir) throw new Error(`${script} printed no bin directory`);
  return { binDir, kubeApiserver: join(binDir, 'kube-apiserver'), etcd: join(binDir, 'etcd') };
}
