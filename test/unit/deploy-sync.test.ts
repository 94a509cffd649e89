// Generated and copied files that must not drift from their sources: the
// chart's CRD, deploy/ (rendered from the chart), and the image build.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadYaml } from '@kubernetes/client-node';
import { CHART_DIR, ROOT, helmBinary } from '../e2e/support/helm.js';

const run = promisify(execFile);
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');

describe('the chart CRD', () => {
  it('is a byte-identical copy of crds/ (same files, same bytes)', () => {
    const own = readdirSync(join(ROOT, 'crds')).sort();
    expect(readdirSync(join(CHART_DIR, 'crds')).sort()).toEqual(own);
    for (const f of own) {
      const chart = readFileSync(join(CHART_DIR, 'crds', f), 'utf8');
      if (chart !== read('crds', f)) {
        throw new Error(`helm/canary-operator/crds/${f} differs from crds/${f}: run cp crds/${f} helm/canary-operator/crds/ && bash scripts/render-manifests.sh`);
      }
    }
  });
});

describe('crds/', () => {
  it('has no key without a value (an unquoted comma in a flow mapping makes one, and kubectl apply rejects it)', () => {
    for (const f of readdirSync(join(ROOT, 'crds'))) {
      const nulls: string[] = [];
      const walk = (o: unknown, path: string): void => {
        if (o === null) nulls.push(path);
        else if (Array.isArray(o)) o.forEach((x, i) => walk(x, `${path}[${i}]`));
        else if (typeof o === 'object') for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
      };
      // loadYaml maps known kinds onto client-node's models, which drop unknown
      // keys; under an unknown apiVersion it returns the document as parsed.
      walk(loadYaml(read('crds', f).replace(/^apiVersion: .*$/m, 'apiVersion: raw.test/v0')), '');
      expect({ file: f, nulls }).toEqual({ file: f, nulls: [] });
    }
  });
});

describe('deploy/', () => {
  let out: string;
  beforeAll(async () => {
    await helmBinary(); // builds the pinned helm on first use
    out = mkdtempSync(join(tmpdir(), 'canary-deploy-'));
  }, 15 * 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('is exactly what scripts/render-manifests.sh renders from the chart now', async () => {
    await run('bash', [join(ROOT, 'scripts', 'render-manifests.sh'), out], { cwd: ROOT, timeout: 120_000 });
    const files = readdirSync(join(ROOT, 'deploy')).filter((f) => /\.ya?ml$/.test(f)).sort();
    expect(files).toEqual(readdirSync(out).sort());
    for (const f of files) {
      if (readFileSync(join(out, f), 'utf8') !== read('deploy', f)) {
        throw new Error(`deploy/${f} is out of date with helm/canary-operator: run bash scripts/render-manifests.sh and commit deploy/`);
      }
    }
  }, 120_000);

  it('starts with the Namespace, then the CRD, and puts everything else in namespace canary-operator', () => {
    const text = read('deploy', 'canary-operator.yaml');
    const kinds = [...text.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
    expect(kinds.slice(0, 2)).toEqual(['Namespace', 'CustomResourceDefinition']);
    expect(kinds).toEqual(expect.arrayContaining(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service', 'PodDisruptionBudget']));
    const namespaces = new Set([...text.matchAll(/^ {2}namespace: (\S+)$/gm)].map((m) => m[1]));
    expect([...namespaces]).toEqual(['canary-operator']);
  });
});

describe('the image build', () => {
  const pkg = JSON.parse(read('package.json')) as { main: string; files: string[]; scripts: Record<string, string> };
  const dockerfile = read('Dockerfile');
  const dockerignore = read('.dockerignore').split('\n').map((l) => l.trim());

  it('puts every packaged path in the build context and the build stage', () => {
    // dist/ is compiled in the image; everything else in "files" is copied from the context.
    for (const f of pkg.files.filter((f) => !f.startsWith('dist/'))) {
      const dir = f.replace(/\/$/, '');
      if (!dockerignore.includes(`!${dir}`) && !dockerignore.includes(`!${dir}/`)) {
        throw new Error(`package.json files lists ${f}, but .dockerignore does not allow it into the build context (add !${dir}/)`);
      }
      if (!new RegExp(`^COPY ${dir}/? `, 'm').test(dockerfile)) throw new Error(`package.json files lists ${f}, but the Dockerfile does not COPY it`);
    }
    for (const f of pkg.files.filter((f) => f.startsWith('dist/'))) {
      expect(f).toMatch(/^dist\/(src\/?|operator\.js(\.map)?)$/); // what `npm run build` of src/ alone produces
    }
  });

  it('puts the scripts `npm run build` runs in the build context and the build stage', () => {
    const scripts = [...(pkg.scripts.build ?? '').matchAll(/\bnode (scripts\/\S+)/g)].map((m) => m[1]!);
    expect(scripts).toEqual(['scripts/bundle-operator.mjs']);
    for (const f of scripts) {
      if (!dockerignore.includes(`!${f}`)) throw new Error(`npm run build runs ${f}, but .dockerignore does not allow it into the build context (add !${f})`);
      if (!new RegExp(`^COPY ${f} `, 'm').test(dockerfile)) throw new Error(`npm run build runs ${f}, but the Dockerfile does not COPY it`);
    }
  });

  it('runs the package entrypoint as a numeric non-root user', () => {
    expect(dockerfile).toMatch(/^USER 10001(:10001)?$/m);
    // node, its flags (memory settings NODE_OPTIONS refuses), then the package's main.
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint.at(-1)).toBe(pkg.main);
    for (const flag of entrypoint.slice(1, -1)) expect(flag).toMatch(/^--[a-z-]+(=\S+)?$/);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
  });
});
