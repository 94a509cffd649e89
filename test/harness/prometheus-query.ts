// Querying a Prometheus over its HTTP API with Node's global fetch.
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

interface ApiReply {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

/** An instant query; returns the vector's samples (a scalar comes back as one sample without labels). */
export async function queryPrometheus(baseUrl: string, expr: string, time?: Date): Promise<Sample[]> {
  const params = new URLSearchParams({ query: expr });
  if (time) params.set('time', String(time.getTime() / 1000));
  const res = await fetch(`${baseUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let reply: ApiReply;
  try {
    reply = JSON.parse(text) as ApiReply;
  } catch {
    throw new Error(`prometheus ${res.status}: ${text.slice(0, 300)}`);
  }
  if (reply.status !== 'success' || !reply.data) throw new Error(`prometheus query ${expr}: ${reply.errorType ?? res.status}: ${reply.error ?? text.slice(0, 300)}`);
  const { resultType, result } = reply.data;
  if (resultType === 'scalar') return [{ metric: {}, value: Number((result as [number, string])[1]) }];
  if (resultType !== 'vector') throw new Error(`prometheus query ${expr}: expected a vector, got ${resultType}`);
  return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** The samples of a `sum by (label)` style query, keyed by that label's value. */
export async function queryByLabel(baseUrl: string, expr: string, label: string): Promise<Record<string, number>> {
  const samples = await queryPrometheus(baseUrl, expr);
  return Object.fromEntries(samples.map((s) => [s.metric[label] ?? '', s.value]));
}
