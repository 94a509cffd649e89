// Instant queries against the Prometheus HTTP API (/api/v1/query). Every
// network, HTTP and format problem comes back as a value, never as an
// exception: a gate that cannot read its metric must report why, not crash
// the reconcile loop.
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
      return fail('unreachable', `invalid Prometheus address ${JSON.stringify(address)}: expected an http:// or https:// URL`);
    }
    const at = `Prometheus at ${address}`;
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
      return fail('unreachable', `cannot reach ${at}: ${describeNetworkError(err)}`);
    }

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      if (status < 200 || status > 299) return fail('http', `${at} answered HTTP ${status}: ${snippet(body)}`);
      return fail('bad-response', `${at} answered HTTP ${status} with a body that is not JSON: ${snippet(body)}`);
    }
    const parsed = ResponseSchema.safeParse(json);
    if (!parsed.success) {
      if (status < 200 || status > 299) return fail('http', `${at} answered HTTP ${status}: ${snippet(body)}`);
      return fail('bad-response', `${at} answered with an unexpected body (${describeIssues(parsed.error)}): ${snippet(body)}`);
    }
    const envelope = parsed.data;
    if (envelope.status === 'error') {
      const what = `${at} rejected the query (HTTP ${status}, ${envelope.errorType}): ${envelope.error}`;
      return fail(errorKind(envelope.errorType), what);
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

/** fetch() says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND...) is in err.cause. */
function describeNetworkError(err: unknown): string {
  for (const e of [prop(err, 'cause'), err]) {
    const message = prop(e, 'message');
    if (typeof message !== 'string') continue;
    const code = prop(e, 'code');
    return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
  }
  return String(err);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.message} at ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || 'top level'}`)
    .join('; ');
}

/** The start of a body, on one line, for error messages. */
function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}
