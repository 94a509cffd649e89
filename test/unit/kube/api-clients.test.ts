// The operator's API clients against local HTTP(S) servers: a server that
// never answers, TLS handshakes counted over several requests, and the query
// string of writes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ApiTimeoutError, OperatorKubeConfig, makeApiClient } from '../../../src/kube/api-clients.js';
import { generatePki } from '../../harness/pki.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'ns', resourceVersion: '1' }, spec: {} };
const answerJson = (body: unknown): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function kubeConfigFor(kc: KubeConfig, server: string, caPem?: string): KubeConfig {
  kc.loadFromOptions({
    clusters: [{ name: 'local', server, skipTLSVerify: caPem === undefined, ...(caPem ? { caData: Buffer.from(caPem).toString('base64') } : {}) }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'u' }],
    currentContext: 'local',
  });
  return kc;
}

describe('a request the server never answers', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  const open = new Set<ServerResponse>();
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      open.add(res);
      handler(req, res);
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(async () => {
    for (const r of open) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('rejects with an ApiTimeoutError naming the method, path and timeout when no headers come', async () => {
    handler = () => {}; // accepts, never answers
    const api = makeApiClient(kubeConfigFor(new KubeConfig(), base), CoordinationV1Api, { requestTimeoutMs: 200 });
    const call = api.readNamespacedLease({ namespace: 'ns', name: 'l' });
    await expect(call).rejects.toBeInstanceOf(ApiTimeoutError);
    await expect(call).rejects.toThrow('Kubernetes API request GET /apis/coordination.k8s.io/v1/namespaces/ns/leases/l timed out after 200 ms');
  });

  it('rejects with the timeout when the headers come and the body stalls', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"apiVersion":"coordination.k8s.io/v1",');
    };
    const api = makeApiClient(kubeConfigFor(new KubeConfig(), base), CoordinationV1Api, { requestTimeoutMs: 200 });
    await expect(api.readNamespacedLease({ namespace: 'ns', name: 'l' })).rejects.toThrow('timed out after 200 ms');
  });

  it('aborts the request, so the server sees its connection close', async () => {
    let closed!: () => void;
    const sawClose = new Promise<void>((r) => (closed = r));
    handler = (req) => req.socket.once('close', () => closed());
    const api = makeApiClient(kubeConfigFor(new KubeConfig(), base), CoordinationV1Api, { requestTimeoutMs: 200 });
    await expect(api.readNamespacedLease({ namespace: 'ns', name: 'l' })).rejects.toBeInstanceOf(ApiTimeoutError);
    await sawClose;
  });

  it('does not time out a watch request', async () => {
    handler = (_req, res) => setTimeout(() => answerJson({ kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1', metadata: {}, items: [] })(_req, res), 400);
    const api = makeApiClient(kubeConfigFor(new KubeConfig(), base), CoordinationV1Api, { requestTimeoutMs: 100 });
    await expect(api.listNamespacedLease({ namespace: 'ns', watch: true })).resolves.toMatchObject({ items: [] });
  });

  it('answers normally within the timeout, and API errors stay ApiExceptions with their status', async () => {
    handler = answerJson(LEASE);
    const kc = kubeConfigFor(new OperatorKubeConfig({ requestTimeoutMs: 2000 }), base);
    await expect(kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'ns', name: 'l' })).resolves.toMatchObject({ metadata: { resourceVersion: '1' } });
    handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'leases "l" not found', reason: 'NotFound', code: 404 }));
    };
    await expect(kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'ns', name: 'l' })).rejects.toMatchObject({ code: 404 });
  });
});

describe('connections', () => {
  let dir: string;
  let caPem: string;
  let server: Server;
  let base: string;
  let handshakes = 0;
  let sockets = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canary-api-clients-'));
    const pki = await generatePki(join(dir, 'pki'));
    caPem = await readFile(pki.servingCaCert, 'utf8');
    server = createHttpsServer({ cert: await readFile(pki.servingCert), key: await readFile(pki.servingKey) }, answerJson(LEASE));
    server.on('secureConnection', () => handshakes++);
    server.on('connection', () => sockets++);
    base = `https://127.0.0.1:${await listen(server)}`;
  }, 30_000);
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('reuse one TLS connection for sequential requests of every client of one KubeConfig', async () => {
    handshakes = sockets = 0;
    const kc = kubeConfigFor(new OperatorKubeConfig(), base, caPem);
    const leases = kc.makeApiClient(CoordinationV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < 3; i++) await leases.readNamespacedLease({ namespace: 'ns', name: 'l' });
    for (let i = 0; i < 3; i++) await core.readNamespace({ name: 'ns' });
    expect({ handshakes, sockets }).toEqual({ handshakes: 1, sockets: 1 });
  });

  it('(client-node alone handshakes once per request, which is why this module exists)', async () => {
    handshakes = sockets = 0;
    const leases = kubeConfigFor(new KubeConfig(), base, caPem).makeApiClient(CoordinationV1Api);
    for (let i = 0; i < 3; i++) await leases.readNamespacedLease({ namespace: 'ns', name: 'l' });
    expect(handshakes).toBe(3);
  });

  it('still verify the server against the kubeconfig CA', async () => {
    const otherPki = await generatePki(join(dir, 'other'));
    const kc = kubeConfigFor(new OperatorKubeConfig(), base, await readFile(otherPki.servingCaCert, 'utf8'));
    await expect(kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'ns', name: 'l' })).rejects.toThrow(/certificate/);
  }, 30_000);
});

describe('writes', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string }[] = [];
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '' });
      req.resume();
      req.on('end', () => answerJson(req.url?.includes('/leases') ? LEASE : { apiVersion: 'x/v1', kind: 'X', metadata: {} })(req, res));
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const fieldManagerOf = (i: number) => new URL(seen[i]!.url, base).searchParams.getAll('fieldManager');

  it('carry fieldManager=canary-operator on POST, PUT and PATCH (also with per-call header options), and reads carry none', async () => {
    seen.length = 0;
    const kc = kubeConfigFor(new OperatorKubeConfig(), base);
    const leases = kc.makeApiClient(CoordinationV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await leases.createNamespacedLease({ namespace: 'ns', body: LEASE });
    await leases.replaceNamespacedLease({ namespace: 'ns', name: 'l', body: LEASE });
    await custom.patchNamespacedCustomObject(
      { group: 'x', version: 'v1', namespace: 'ns', plural: 'xs', name: 'a', body: { spec: {} } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await custom.patchNamespacedCustomObjectStatus(
      { group: 'x', version: 'v1', namespace: 'ns', plural: 'xs', name: 'a', body: [{ op: 'add', path: '/status', value: {} }] },
    );
    await leases.readNamespacedLease({ namespace: 'ns', name: 'l' });
    expect(seen.map((s) => s.method)).toEqual(['POST', 'PUT', 'PATCH', 'PATCH', 'GET']);
    expect([0, 1, 2, 3].map(fieldManagerOf)).toEqual([['canary-operator'], ['canary-operator'], ['canary-operator'], ['canary-operator']]);
    expect(fieldManagerOf(4)).toEqual([]);
  });

  it('keep a field manager the caller set', async () => {
    seen.length = 0;
    const leases = kubeConfigFor(new OperatorKubeConfig(), base).makeApiClient(CoordinationV1Api);
    await leases.replaceNamespacedLease({ namespace: 'ns', name: 'l', body: LEASE, fieldManager: 'someone-else' });
    expect(fieldManagerOf(0)).toEqual(['someone-else']);
  });
});
