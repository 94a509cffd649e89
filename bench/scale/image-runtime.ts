// The runtime settings of the operator's image (the ENV lines of the
// Dockerfile's last stage, the node flags and script of its ENTRYPOINT), so the
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

/** The last stage's exec-form ENTRYPOINT when it runs node (["node", "--flag", ..., "script.js", ...]): its flags and script. */
function nodeEntrypoint(dockerfile: string): { flags: string[]; script?: string } {
  const lastStage = dockerfile.split(/^FROM\s.*$/m).at(-1) ?? '';
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(lastStage)?.[1];
  if (line === undefined) return { flags: [] };
  const args = JSON.parse(line) as unknown;
  if (!Array.isArray(args) || args[0] !== 'node') return { flags: [] };
  const flags: string[] = [];
  for (const arg of args.slice(1)) {
    if (typeof arg !== 'string') break;
    if (!arg.startsWith('-')) return { flags, script: arg };
    flags.push(arg);
  }
  return { flags };
}

/** The flags between "node" and the script in the last stage's exec-form ENTRYPOINT. */
export function imageNodeFlags(dockerfile: string): string[] {
  return nodeEntrypoint(dockerfile).flags;
}

/** The script node runs in the last stage's exec-form ENTRYPOINT, relative to the image's WORKDIR (the package root). */
export function imageNodeScript(dockerfile: string): string | undefined {
  return nodeEntrypoint(dockerfile).script;
}

const projectDockerfile = (root: string) => readFileSync(join(root, 'Dockerfile'), 'utf8');

export function projectImageRuntimeEnv(root: string): Record<string, string> {
  return imageRuntimeEnv(projectDockerfile(root));
}

export function projectImageNodeFlags(root: string): string[] {
  return imageNodeFlags(projectDockerfile(root));
}

/** The operator script the image runs, as a path under root. */
export function projectImageNodeScript(root: string): string {
  const script = imageNodeScript(projectDockerfile(root));
  if (script === undefined) throw new Error(`${join(root, 'Dockerfile')}: no ENTRYPOINT ["node", ..., "script.js"] in its last stage`);
  return join(root, script);
}
