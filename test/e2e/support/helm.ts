// The pinned helm binary (scripts/control-plane/build.sh --helm) and the
// project's chart: run helm, render the chart, parse what it renders.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { KubernetesObject, V1EnvVar } from '@kubernetes/client-node';
import { parseYamlDocuments } from '../../harness/yaml-documents.js';

const run = promisify(execFile);

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
export const CHART_DIR = join(ROOT, 'helm', 'canary-operator');
/** The Kubernetes version the chart is rendered for when no cluster is asked (deploy/ uses it too). */
export const KUBE_VERSION = '1.34.0';

let binary: Promise<string> | undefined;

/**
 * The pinned helm: build.sh --helm reuses the cached binary (instant) or
 * builds it from Go modules on first use (a few minutes).
 */
export function helmBinary(): Promise<string> {
  binary ??= run('bash', [join(ROOT, 'scripts', 'control-plane', 'build.sh'), '--helm'], {
    cwd: ROOT,
    timeout: 15 * 60_000,
    maxBuffer: 16 << 20,
  }).then(({ stdout }) => {
    const dir = stdout.trim().split('\n').at(-1);
    if (!dir) throw new Error('scripts/control-plane/build.sh --helm printed no bin directory');
    return join(dir, 'helm');
  });
  return binary;
}

// helm keeps its cache, config and data here instead of the user's home.
let helmHome: string | undefined;
function helmEnv(): NodeJS.ProcessEnv {
  helmHome ??= mkdtempSync(join(tmpdir(), 'canary-helm-home-'));
  return {
    ...process.env,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs helm; a failure's error message carries helm's stderr. */
export async function helm(args: string[], opts: { kubeconfig?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const bin = await helmBinary();
  const full = opts.kubeconfig ? [...args, '--kubeconfig', opts.kubeconfig] : args;
  try {
    return await run(bin, full, { cwd: ROOT, env: helmEnv(), timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`helm ${full.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

export interface RenderOptions {
  release: string;
  namespace: string;
  /** Values, passed as a values file (JSON is YAML). */
  values?: Record<string, unknown>;
  includeCrds?: boolean;
}

export interface Rendered {
  text: string;
  objects: KubernetesObject[];
}

/** `helm template` of the chart for KUBE_VERSION. */
export async function renderChart(opts: RenderOptions): Promise<Rendered> {
  const args = ['template', opts.release, CHART_DIR, '--namespace', opts.namespace, '--kube-version', KUBE_VERSION];
  if (opts.includeCrds) args.push('--include-crds');
  if (opts.values) {
    const dir = mkdtempSync(join(tmpdir(), 'canary-values-'));
    const file = join(dir, 'values.json');
    await writeFile(file, JSON.stringify(opts.values));
    args.push('--values', file);
  }
  const { stdout } = await helm(args);
  return { text: stdout, objects: parseYamlDocuments(stdout) as KubernetesObject[] };
}

export const ofKind = <T extends KubernetesObject = KubernetesObject>(objects: readonly KubernetesObject[], kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as T[];

/**
 * The environment a pod of this container would get: literal values, and the
 * downward API fields the chart uses. Anything else is an error, so a new
 * kind of env source cannot be silently skipped.
 */
export function containerEnv(env: readonly V1EnvVar[] | undefined, pod: { name: string; namespace: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    if (e.valueFrom) {
      const field = e.valueFrom.fieldRef?.fieldPath;
      if (field === 'metadata.name') out[e.name] = pod.name;
      else if (field === 'metadata.namespace') out[e.name] = pod.namespace;
      else throw new Error(`env ${e.name}: unsupported valueFrom ${JSON.stringify(e.valueFrom)}`);
    } else {
      out[e.name] = e.value ?? '';
    }
  }
  return out;
}
