// The runtime settings of the operator's image (the ENV lines of the
// Dockerfile's last stage), so the benchmark measures the operator as it runs
// in a cluster: memory flags included.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** ENV KEY=VALUE lines of the last FROM stage (one pair per line; quotes stripped). */
export function imageRuntimeEnv(dockerfile: string): Record<string, string> {
  const lastStage = dockerfile.split(/^FROM\s.*$/m).at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const m of lastStage.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=("?)(.*)\2\s*$/gm)) env[m[1] as string] = m[3] as string;
  return env;
}

export function projectImageRuntimeEnv(root: string): Record<string, string> {
  return imageRuntimeEnv(readFileSync(join(root, 'Dockerfile'), 'utf8'));
}
