// Instant queries against the Prometheus HTTP API (/api/v1/query). Every
// network, HTTP and format problem comes back as a value, never as an
// exception: a gate that cannot read its metric must report why, not crash
// the reconcile loop.
//
// Error messages reach status and Events, which the release's author reads,
// and the address may be theirs: so a message holds the error kind, the HTTP
// status and our own words, never any part of a response body (nor Prometheus'
// error text, nor series labels), or the operator would read back for them
// whatever an in-cluster URL answers.
import { z } from 'zod';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export type QueryErrorKind = 'unreachable' | 'timeout' | 'http' | 'promql' | 'bad-response';

export type QueryResult =
  | { ok: true; resultType: 'vector' | 'scalar'; samples: Sample[] }
  | { ok: false; kind: QueryErrorKind; message: string };

export interface MetricsQuerier {
  /** An instant query evaluated at `at` (Prometheus' `time`), or at the server's now without it. */
  query(address: string, promql: string, timeoutMs: number, at?: Date): Promise<QueryResult>;
}

/** Prometheus writes sample values as strings so NaN and ±Inf survive JSON. */
const FLOAT = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
const SPECIAL = new Map([['NaN', Number.NaN], ['+Inf', Infinity], ['Inf', Infinity], ['-Inf', -Infinity]]);

/** "1.5e+06", "NaN", "+Inf", "-Inf" -> number; anything else -> undefined (Number('') would be 0). */
export function parseSampleValue(text: string): number | undefined {
  const special = SPECIAL.get(text);
  if (special !== undefined) return special;
  return FLOAT.test(text) ? Number(text) : undefined;
}

const sampleValue = z.string().transform((text, ctx) => {
  const value = parseSampleValue(text);
  if (value === undefined) {
    ctx.issues.push({ code: 'custom', message: `not a sample value: ${JSON.stringify(text)}`, input: text });
    return z.NEVER;
  }
  return value;
});
const pair = z.tuple([z.number(), sampleValue]);

const ResponseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({
        resultType: z.literal('vector'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: pair })),
      }),
      z.object({ resultType: z.literal('scalar'), result: pair }),
      // Valid answers, just not ones a gate can use; named in the error.
      z.object({ resultType: z.enum(['matrix', 'string']) }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

const UNUSABLE: Record<string, string> = {
  matrix: 'a range vector (matrix); a gate query must return an instant vector or a scalar (drop the [range] selector or wrap it in a function such as rate())',
  string: 'a string; a gate query must return an instant vector or a scalar',
};

export interface PrometheusClientOptions {
  /** POST (default) keeps long PromQL out of URLs and access logs. */
  method?: 'POST' | 'GET';
}

export class PrometheusClient implements MetricsQuerier {
  private readonly method: 'POST' | 'GET';

  constructor(options: PrometheusClientOptions = {}) {
    this.method = options.method ?? 'POST';
  }

  async query(address: string, promql: string, timeoutMs: number, evaluationTime?: Date): Promise<QueryResult> {
    const url = queryUrl(address);
    if (url === undefined) {
      return fail('unreachable', `invalid Prometheus address ${JSON.stringify(shown(address))}: expected an http:// or https:// URL`);
    }
    const at = `Prometheus at ${shown(address)}`;
    const ms = Math.max(1, Math.ceil(timeoutMs));
    // The timeout parameter lets Prometheus stop work we no longer wait for.
    const params = new URLSearchParams({ query: promql, timeout: `${ms}ms` });
    if (evaluationTime) params.set('time', (evaluationTime.getTime() / 1000).toFixed(3));
    const init: RequestInit = { method: this.method, signal: AbortSignal.timeout(ms), headers: { accept: 'application/json' } };
    if (this.method === 'POST') init.body = params;
    else url.search = params.toString();

    let status: number;
    let body: string;
    try {
      const response = await fetch(url, init);
      status = response.status;
      body = await response.text();
    } catch (err) {
      if (isTimeout(err)) return fail('timeout', `${at} did not answer within ${ms}ms`);
      return fail('unreachable', `cannot reach ${at}: ${networkErrorCode(err)}`);
    }

    const notOk = status < 200 || status > 299;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      if (notOk) return fail('http', `${at} answered HTTP ${status} (not a Prometheus answer: is the address right?)`);
      return fail('bad-response', `${at} answered HTTP ${status} with a body that is not JSON`);
    }
    const parsed = ResponseSchema.safeParse(json);
    if (!parsed.success) {
      if (notOk) return fail('http', `${at} answered HTTP ${status} (not a Prometheus answer: is the address right?)`);
      return fail('bad-response', `${at} answered HTTP ${status} with a body that is not a Prometheus query result`);
    }
    const envelope = parsed.data;
    if (envelope.status === 'error') {
      const known = KNOWN_ERROR_TYPES.has(envelope.errorType);
      const what = known ? `${envelope.errorType}): ${ERROR_TYPE_TEXT[envelope.errorType]}` : 'unknown error type): see the Prometheus logs';
      return fail(errorKind(envelope.errorType), `${at} rejected the query (HTTP ${status}, ${what}`);
    }
    const data = envelope.data;
    switch (data.resultType) {
      case 'vector':
        return { ok: true, resultType: 'vector', samples: data.result.map((s) => ({ labels: s.metric, value: s.value[1] })) };
      case 'scalar':
        return { ok: true, resultType: 'scalar', samples: [{ labels: {}, value: data.result[1] }] };
      default:
        return fail('bad-response', `${at} returned ${UNUSABLE[data.resultType]}`);
    }
  }
}

// Prometheus' documented errorType values; anything else is not repeated.
const ERROR_TYPE_TEXT: Record<string, string> = {
  bad_data: 'the query is not valid PromQL or a parameter is wrong; run the query from status in Prometheus to see why',
  execution: 'the query failed while running; run the query from status in Prometheus to see why',
  timeout: 'Prometheus timed the query out',
  canceled: 'Prometheus canceled the query',
  internal: 'Prometheus had an internal error',
  unavailable: 'Prometheus is not ready',
  not_found: 'Prometheus has no such endpoint',
  not_acceptable: 'Prometheus did not accept the request',
};
const KNOWN_ERROR_TYPES = new Set(Object.keys(ERROR_TYPE_TEXT));

function fail(kind: QueryErrorKind, message: string): QueryResult {
  return { ok: false, kind, message };
}

/** Appends /api/v1/query to the address, keeping any path prefix (e.g. behind a proxy). */
function queryUrl(address: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.search = '';
  url.hash = '';
  return url;
}

/** Prometheus' own errorType: a query that Prometheus timed out is a timeout, not a PromQL mistake. */
function errorKind(errorType: string): QueryErrorKind {
  if (errorType === 'timeout' || errorType === 'canceled') return 'timeout';
  if (errorType === 'bad_data' || errorType === 'execution') return 'promql';
  return 'http';
}

// Duck-typed rather than instanceof: fetch's errors may come from another
// realm (e.g. under jest's VM modules), where instanceof Error is false.
function prop(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value ? Reflect.get(value, key) : undefined;
}

function isTimeout(err: unknown): boolean {
  const name = prop(err, 'name');
  return name === 'TimeoutError' || name === 'AbortError';
}

/** fetch() says only "fetch failed"; the cause's code (ECONNREFUSED, ENOTFOUND...) says why, with no text from the peer. */
function networkErrorCode(err: unknown): string {
  for (const e of [prop(err, 'cause'), err]) {
    const code = prop(e, 'code');
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
  }
  return 'network error';
}

/** The address for messages: without user name and password. */
function shown(address: string): string {
  try {
    const url = new URL(address);
    if (!url.username && !url.password) return address;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return address.replace(/\/\/[^/@]*@/, '//');
  }
}
