// Every Kubernetes API client the operator builds goes through here, so that
// each request (a) has a timeout, (b) reuses connections through one
// keep-alive agent per KubeConfig, and (c) names the operator as the field
// manager of its writes. client-node 1.4.0 does none of this: it builds a new
// https.Agent per request, sets no timeout, and writes show up in
// managedFields as "node-fetch".
//
// Watches do not come through these clients (client-node's Watch does its own
// fetch), so they never get the short timeout; an informer's initial list does,
// because the operator lists through these clients.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  IsomorphicFetchHttpLibrary, KubeConfig, ResponseContext, SelfDecodingBody, ServerConfiguration,
  createConfiguration, wrapHttpLibrary,
  type ApiConstructor, type ApiType, type HttpLibrary, type RequestContext,
} from '@kubernetes/client-node';

export const FIELD_MANAGER = 'canary-operator';
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface ApiClientOptions {
  /** Whole-request timeout (headers and body) of every non-watch request; default 10 s. */
  requestTimeoutMs?: number;
  /** Added as ?fieldManager= to every POST/PUT/PATCH that does not name one; default "canary-operator". */
  fieldManager?: string;
}

/** A request that got no complete answer within the timeout; it has been aborted. */
export class ApiTimeoutError extends Error {
  override readonly name = 'ApiTimeoutError';
  constructor(readonly method: string, readonly path: string, readonly timeoutMs: number) {
    super(`Kubernetes API request ${method} ${path} timed out after ${timeoutMs} ms (request timeout ${timeoutMs} ms) and was aborted`);
  }
}

/** Builds a generated API client whose requests are timed, pooled and carry the field manager. */
export function makeApiClient<T extends ApiType>(kc: KubeConfig, api: ApiConstructor<T>, opts: ApiClientOptions = {}): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return new api(createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    httpApi: hardenedHttpLibrary(poolFor(kc), opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, opts.fieldManager ?? FIELD_MANAGER),
  }));
}

/**
 * A KubeConfig whose makeApiClient goes through makeApiClient above, so code
 * that is handed a KubeConfig (the controller) builds hardened clients too.
 */
export class OperatorKubeConfig extends KubeConfig {
  constructor(private readonly clientOptions: ApiClientOptions = {}) {
    super();
  }

  override makeApiClient<T extends ApiType>(api: ApiConstructor<T>): T {
    return makeApiClient(this, api, this.clientOptions);
  }
}

// The HttpLibrary survives per-call options (setHeaderOptions replaces or
// appends middleware, never the httpApi), so this is the one reliable hook.
function hardenedHttpLibrary(pool: AgentPool, timeoutMs: number, fieldManager: string): HttpLibrary {
  const fetchLibrary = new IsomorphicFetchHttpLibrary();
  return wrapHttpLibrary({
    async send(ctx: RequestContext): Promise<ResponseContext> {
      const method = ctx.getHttpMethod().toString();
      const url = new URL(ctx.getUrl());
      if (['POST', 'PUT', 'PATCH'].includes(method) && !url.searchParams.has('fieldManager')) ctx.setQueryParam('fieldManager', fieldManager);
      const agent = ctx.getAgent();
      if (agent) ctx.setAgent(pool.reuse(agent));
      if (url.searchParams.get('watch') === 'true') return fetchLibrary.send(ctx).toPromise();

      const abort = new AbortController();
      const callerSignal = ctx.getSignal();
      ctx.setSignal(callerSignal ? AbortSignal.any([callerSignal, abort.signal]) : abort.signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new ApiTimeoutError(method, url.pathname, timeoutMs));
        }, timeoutMs);
      });
      // The body is read inside the timeout too: a server that sends headers and then stalls must not hang the caller.
      const exchange = (async () => {
        const response = await fetchLibrary.send(ctx).toPromise();
        const body = await response.body.binary();
        return new ResponseContext(response.httpStatusCode, response.headers, new SelfDecodingBody(Promise.resolve(body)));
      })();
      try {
        return await Promise.race([exchange, timedOut]);
      } finally {
        clearTimeout(timer);
        exchange.catch(() => {}); // after a timeout its abort rejection is expected
      }
    },
  });
}

type Agent = HttpAgent | HttpsAgent;

/**
 * One keep-alive agent per KubeConfig. client-node builds a fresh agent per
 * request (with the kubeconfig's CA, client certificate and TLS settings read
 * anew); its options are the key, so a rotated certificate gets a new agent.
 * Proxy agents (cluster.proxyUrl) are left as client-node made them.
 */
class AgentPool {
  private current: { key: string; agent: Agent } | undefined;

  reuse(fresh: Agent): Agent {
    const kind = fresh.constructor === HttpsAgent ? 'https' : fresh.constructor === HttpAgent ? 'http' : undefined;
    if (!kind) return fresh;
    const options = (fresh as Agent & { options: Record<string, unknown> }).options;
    const key = `${kind}|${tlsKey(options)}`;
    if (this.current?.key !== key) {
      const old = this.current?.agent;
      const keepAlive = { ...options, keepAlive: true };
      this.current = { key, agent: kind === 'https' ? new HttpsAgent(keepAlive) : new HttpAgent(keepAlive) };
      // Requests still using the old agent finish; its idle sockets close.
      if (old) setTimeout(() => old.destroy(), 60_000).unref();
    }
    return this.current.agent;
  }
}

const TLS_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

function tlsKey(options: Record<string, unknown>): string {
  return TLS_FIELDS.map((f) => {
    const v = options[f];
    if (v === undefined || v === null) return '';
    return Buffer.isBuffer(v) ? v.toString('base64') : String(v);
  }).join('|');
}

const pools = new WeakMap<KubeConfig, AgentPool>();

function poolFor(kc: KubeConfig): AgentPool {
  let pool = pools.get(kc);
  if (!pool) pools.set(kc, (pool = new AgentPool()));
  return pool;
}
