// scripts/control-plane/build.sh run twice at once on one cache (two clones'
// test or demo runs on one machine), with a fake `go` that takes a moment to
// "build": both runs succeed, each binary is built once, and the cache holds
// complete binaries only.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../e2e/support/helm.js';

const BUILD = join(ROOT, 'scripts', 'control-plane', 'build.sh');
const versions = Object.fromEntries(
  [...(await readFile(join(ROOT, 'scripts', 'control-plane', 'versions.env'), 'utf8')).matchAll(/^(\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]),
) as Record<string, string>;

// `go build -o OUT` and `GOBIN=DIR go install` write a stand-in binary after a
// second, in two steps (so a reader could see a half-written file); every
// build is logged.
const FAKE_GO = `#!/bin/bash
set -e
log="$FAKE_GO_LOG"
case "$1" in
  mod)
    # go mod download -json sigs.k8s.io/gateway-api@...: a module dir with one standard-channel CRD.
    d="$(dirname "$log")/fake-gateway-api"; mkdir -p "$d/config/crd/standard"
    echo 'kind: CustomResourceDefinition' > "$d/config/crd/standard/fake.yaml"
    printf '{\n\t"Dir": "%s"\n}\n' "$d" ;;
  build)
    out=""; while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
    echo "build $(basename "$out")" >> "$log"
    sleep 1; printf '#!/bin/sh\\n' > "$out"; sleep 0.2; echo 'echo fake' >> "$out"; chmod +x "$out" ;;
  install)
    echo "install helm" >> "$log"
    mkdir -p "$GOBIN"; sleep 1; printf '#!/bin/sh\\necho fake\\n' > "$GOBIN/helm"; chmod +x "$GOBIN/helm" ;;
  *) echo "fake go: unexpected $*" >&2; exit 2 ;;
esac
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'canary-build-race-'));
  await writeFile(join(dir, 'go'), FAKE_GO);
  await chmod(join(dir, 'go'), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runBuild(cache: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [BUILD, '--helm'], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, CANARY_CACHE_DIR: cache, FAKE_GO_LOG: join(cache, '..', `${cache.split('/').pop()}.go.log`) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('scripts/control-plane/build.sh', () => {
  it('run twice at once on one cache: both succeed, each binary is built once and is complete', async () => {
    const cache = join(dir, 'cache');
    const [a, b] = await Promise.all([runBuild(cache), runBuild(cache)]);
    for (const r of [a, b]) {
      expect({ code: r.code, stderr: r.stderr.split('\n').filter((l) => /cannot|No such|error/i.test(l)) }).toEqual({ code: 0, stderr: [] });
      expect(r.stdout.trim().split('\n').at(-1)).toBe(join(cache, 'bin'));
    }
    const built = (await readFile(join(dir, 'cache.go.log'), 'utf8')).trim().split('\n').sort();
    expect(built).toEqual(['build etcd', 'build kube-apiserver', 'build kubectl', 'install helm']);
    const bin = join(cache, 'bin');
    for (const [link, target] of [
      ['kube-apiserver', `kube-apiserver-${versions.KUBE_VERSION}`], ['kubectl', `kubectl-${versions.KUBE_VERSION}`],
      ['etcd', `etcd-${versions.ETCD_VERSION}`], ['helm', `helm-${versions.HELM_VERSION}-k1.34`],
    ]) {
      expect(await readlink(join(bin, link!))).toBe(target);
      expect(await readFile(join(bin, target!), 'utf8')).toBe('#!/bin/sh\necho fake\n');
    }
    // Nothing half-built or temporary is left behind.
    expect((await readdir(cache)).sort()).toEqual(['bin', `gateway-api-${versions.GATEWAY_API_VERSION}`, 'locks']);
    expect(await readdir(join(cache, `gateway-api-${versions.GATEWAY_API_VERSION}`))).toEqual(['fake.yaml']);
    expect((await readdir(bin)).sort()).toEqual(['etcd', `etcd-${versions.ETCD_VERSION}`, 'helm', `helm-${versions.HELM_VERSION}-k1.34`,
      'kube-apiserver', `kube-apiserver-${versions.KUBE_VERSION}`, 'kubectl', `kubectl-${versions.KUBE_VERSION}`].sort());
  }, 60_000);

  it('reuses what is cached: a second run builds nothing', async () => {
    const cache = join(dir, 'cache2');
    expect((await runBuild(cache)).code).toBe(0);
    const log = join(dir, 'cache2.go.log');
    const before = await readFile(log, 'utf8');
    expect((await runBuild(cache)).code).toBe(0);
    expect(await readFile(log, 'utf8')).toBe(before);
  }, 60_000);
});
