// The e2e fault-injection proxy against a local HTTPS server standing in for
// the API server: it forwards with the upstream kubeconfig's credentials,
// streams (watch headers at once), and stalls, fails or delays what a rule picks.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiProxy, type ApiProxy } from '../harness/api-proxy.js';
import { writeKubeconfig } from '../harness/kubeconfig.js';
import { generatePki } from '../harness/pki.js';

let dir: string;
let upstream: Server;
let proxy: ApiProxy;
const seen: { method: string; url: string; clientCert: string | undefined }[] = [];
const open: ServerResponse[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'canary-api-proxy-'));
  const pki = await generatePki(join(dir, 'pki'));
  upstream = createServer(
    { cert: await readFile(pki.servingCert), key: await readFile(pki.servingKey), ca: await readFile(pki.clientCaCert), requestCert: true, rejectUnauthorized: true },
    (req: IncomingMessage, res: ServerResponse) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', clientCert: String((req.socket as TLSSocket).getPeerCertificate().subject?.CN) });
      if (req.url?.includes('watch=true')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        open.push(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url }));
    },
  );
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const kubeconfig = join(dir, 'upstream.kubeconfig');
  await writeKubeconfig(kubeconfig, {
    server: `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`, name: 'up',
    caPem: await readFile(pki.servingCaCert, 'utf8'), clientCertPem: await readFile(pki.adminCert, 'utf8'), clientKeyPem: await readFile(pki.adminKey, 'utf8'),
  });
  proxy = await startApiProxy(kubeconfig);
}, 30_000);
afterAll(async () => {
  open.forEach((r) => r.destroy());
  await proxy.close();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
  await rm(dir, { recursive: true, force: true });
});

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l';
const isLease = (r: { path: string }) => r.path.startsWith('/apis/coordination.k8s.io/');

describe('the API proxy', () => {
  it('forwards with the upstream client certificate', async () => {
    seen.length = 0;
    const res = await fetch(`${proxy.url}/api/v1/namespaces?limit=1`);
    expect(await res.json()).toEqual({ path: '/api/v1/namespaces?limit=1' });
    expect(seen).toEqual([{ method: 'GET', url: '/api/v1/namespaces?limit=1', clientCert: 'admin' }]);
  });

  it('passes a watch\'s headers on before any event', async () => {
    const abort = new AbortController();
    const res = await fetch(`${proxy.url}/api/v1/pods?watch=true`, { signal: abort.signal });
    expect(res.status).toBe(200);
    abort.abort();
  });

  it('stalls the requests a rule matches until the rule is removed, and forwards the others', async () => {
    const stall = proxy.stall(isLease);
    const held = fetch(`${proxy.url}${LEASE}`).then(() => 'answered', () => 'reset');
    await expect(fetch(`${proxy.url}/api/v1/pods`).then((r) => r.status)).resolves.toBe(200);
    const first = await Promise.race([held, new Promise((r) => setTimeout(() => r('still held'), 300))]);
    expect(first).toBe('still held');
    expect(stall.hits).toBe(1);
    stall.remove();
    await expect(held).resolves.toBe('reset');
    await expect(fetch(`${proxy.url}${LEASE}`).then((r) => r.status)).resolves.toBe(200);
  });

  it('fails matched requests with the given status and a Kubernetes Status body', async () => {
    const rule = proxy.fail((r) => r.method === 'PUT' && isLease(r), 503);
    const res = await fetch(`${proxy.url}${LEASE}`, { method: 'PUT', body: '{}' });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ kind: 'Status', code: 503 });
    expect((await fetch(`${proxy.url}${LEASE}`)).status).toBe(200);
    rule.remove();
  });

  it('runs a callback before forwarding', async () => {
    const order: string[] = [];
    const rule = proxy.before(isLease, async (r) => {
      order.push(`before ${r.method} ${r.path}`);
    });
    seen.length = 0;
    await fetch(`${proxy.url}${LEASE}`);
    order.push(...seen.map((s) => `upstream ${s.url}`));
    expect(order).toEqual([`before GET ${LEASE}`, `upstream ${LEASE}`]);
    rule.remove();
  });
});
