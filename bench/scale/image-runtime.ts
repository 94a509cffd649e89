// The runtime settings of the operator's image (the ENV lines of the
// Dockerfile's last stage, and the node flags of its ENTRYPOINT), so the
// benchmark measures the operator as it runs in a cluster: memory flags
// included (some V8 flags are refused in NODE_OPTIONS and must be on the
// command line).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** ENV KEY=VALUE lines of the last FROM stage (one pair per line; quotes stripped). */
export function imageRuntimeEnv(dockerfile: string): Record<string, string> {
  const lastStage = dockerfile.split(/^FROM\s.*$/m).at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const m of lastStage.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=("?)(.*)\2\s*$/gm)) env[m[1] as string] = m[3] as string;
  return env;
}

/** The flags between "node" and the script in the last stage's exec-form ENTRYPOINT (["node", "--flag", ..., "script.js"]). */
export function imageNodeFlags(dockerfile: string): string[] {
  const lastStage = dockerfile.split(/^FROM\s.*$/m).at(-1) ?? '';
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(lastStage)?.[1];
  if (line === undefined) return [];
  const args = JSON.parse(line) as unknown;
  if (!Array.isArray(args) || args[0] !== 'node') return [];
  const flags: string[] = [];
  for (const arg of args.slice(1)) {
    if (typeof arg !== 'string' || !arg.startsWith('-')) break;
    flags.push(arg);
  }
  return flags;
}

const projectDockerfile = (root: string) => readFileSync(join(root, 'Dockerfile'), 'utf8');

export function projectImageRuntimeEnv(root: string): Record<string, string> {
  return imageRuntimeEnv(projectDockerfile(root));
}

export function projectImageNodeFlags(root: string): string[] {
  return imageNodeFlags(projectDockerfile(root));
}
