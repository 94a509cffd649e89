// A plain-HTTP proxy in front of the real kube-apiserver, for fault injection.
// The process under test gets a kubeconfig whose server is the proxy (see
// writeKubeconfig); the proxy forwards every request over TLS with the
// upstream kubeconfig's CA and credentials, streaming answers (watches too).
//
// Rules pick requests by method and path and are tried in the order added;
// the first match acts:
//   proxy.stall(match)           accept and never answer (held until the rule is removed, then reset)
//   proxy.fail(match, 503)       answer with that HTTP status and a Kubernetes Status body (optionally only `times` times)
//   proxy.before(match, fn)      run an async callback, then forward
// Each returns a rule with `hits` (requests it acted on) and `remove()`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';

export interface ProxiedRequest {
  method: string;
  /** The path without the query, e.g. /apis/coordination.k8s.io/v1/namespaces/ns/leases/name. */
  path: string;
  query: URLSearchParams;
}

export type RequestMatch = (req: ProxiedRequest) => boolean;

export interface ProxyRule {
  readonly hits: number;
  remove(): void;
}

export interface ApiProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  stall(match: RequestMatch): ProxyRule;
  fail(match: RequestMatch, status: number, message?: string, times?: number): ProxyRule;
  before(match: RequestMatch, callback: (req: ProxiedRequest) => Promise<void>): ProxyRule;
  /** A kubeconfig for the process under test: server = the proxy, no credentials (the proxy adds them). */
  writeKubeconfig(path: string): Promise<void>;
  close(): Promise<void>;
}

type Action =
  | { kind: 'stall'; held: Set<ServerResponse> }
  | { kind: 'fail'; status: number; message: string }
  | { kind: 'before'; callback: (req: ProxiedRequest) => Promise<void> };

interface Rule { match: RequestMatch; action: Action; hits: number; times?: number | undefined }

/** Starts the proxy on a free loopback port, forwarding to the upstream kubeconfig's current cluster. */
export async function startApiProxy(upstreamKubeconfigPath: string): Promise<ApiProxy> {
  const upstream = new KubeConfig();
  upstream.loadFromFile(upstreamKubeconfigPath);
  const cluster = upstream.getCurrentCluster();
  if (!cluster) throw new Error(`${upstreamKubeconfigPath}: no current cluster`);
  const target = new URL(cluster.server);
  const tls: RequestOptions = {};
  await upstream.applyToHTTPSOptions(tls); // CA, client certificate, auth headers
  const agent = new Agent({ ca: tls.ca, cert: tls.cert, key: tls.key, keepAlive: true });
  const authHeaders = (tls.headers ?? {}) as Record<string, string>;

  const rules: Rule[] = [];
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = httpsRequest({
      host: target.hostname, port: target.port || 443, method: req.method, path: req.url, agent,
      headers: { ...req.headers, host: target.host, ...authHeaders },
    }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      res.flushHeaders(); // a watch sends no body until something changes; its client waits for the headers
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const info: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams };
    const rule = rules.find((r) => (r.times === undefined || r.hits < r.times) && r.match(info));
    if (!rule) return forward(req, res);
    rule.hits++;
    const action = rule.action;
    if (action.kind === 'stall') {
      action.held.add(res);
      res.on('close', () => action.held.delete(res));
      return;
    }
    if (action.kind === 'fail') {
      req.resume();
      res.writeHead(action.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: action.message, code: action.status }));
      return;
    }
    action.callback(info).then(() => forward(req, res), () => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const add = (match: RequestMatch, action: Action, times?: number): ProxyRule => {
    const rule: Rule = { match, action, hits: 0, times };
    rules.push(rule);
    return {
      get hits() {
        return rule.hits;
      },
      remove() {
        const i = rules.indexOf(rule);
        if (i >= 0) rules.splice(i, 1);
        if (action.kind === 'stall') for (const res of action.held) res.destroy();
      },
    };
  };

  return {
    url,
    stall: (match) => add(match, { kind: 'stall', held: new Set() }),
    fail: (match, status, message = `injected by the test proxy: HTTP ${status}`, times) => add(match, { kind: 'fail', status, message }, times),
    before: (match, callback) => add(match, { kind: 'before', callback }),
    writeKubeconfig: async (path) => {
      const config = {
        apiVersion: 'v1', kind: 'Config', preferences: {},
        // client-node accepts an http:// server only with insecure-skip-tls-verify.
        clusters: [{ name: 'proxy', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'proxy', user: {} }],
        contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy', namespace: 'default' } }],
        'current-context': 'proxy',
      };
      await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    },
    close: async () => {
      rules.splice(0).forEach((r) => r.action.kind === 'stall' && r.action.held.forEach((res) => res.destroy()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
