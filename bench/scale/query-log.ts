// Prometheus' query log (global.query_log_file): one JSON line per query it
// ran, with its parameters and Prometheus' own statistics, the same figures
// the API returns with stats=all (timings in seconds, samples touched).
import { readFile } from 'node:fs/promises';
import { parseTime } from './distribution.js';

export interface LoggedQuery {
  query: string;
  /** Evaluation time (params.start) in epoch ms: for the operator's rounds, the round's time. */
  at: number;
  /** When Prometheus logged it (epoch ms). */
  loggedAt: number;
  /** execTotalTime: queueing, preparation and evaluation. */
  execSeconds: number;
  evalSeconds: number;
  queueSeconds: number;
  /** totalQueryableSamples: samples the query touched. */
  samples: number;
  peakSamples: number;
  error?: string;
}

interface Line {
  params?: { query?: string; start?: string };
  stats?: {
    timings?: { execTotalTime?: number; evalTotalTime?: number; execQueueTime?: number };
    samples?: { totalQueryableSamples?: number; peakSamples?: number };
  };
  error?: unknown;
  ts?: string;
}

export function parseQueryLog(text: string): LoggedQuery[] {
  const out: LoggedQuery[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    let l: Line;
    try {
      l = JSON.parse(raw) as Line;
    } catch {
      continue;
    }
    if (typeof l.params?.query !== 'string') continue;
    const q: LoggedQuery = {
      query: l.params.query,
      at: parseTime(l.params.start),
      loggedAt: parseTime(l.ts),
      execSeconds: l.stats?.timings?.execTotalTime ?? Number.NaN,
      evalSeconds: l.stats?.timings?.evalTotalTime ?? Number.NaN,
      queueSeconds: l.stats?.timings?.execQueueTime ?? Number.NaN,
      samples: l.stats?.samples?.totalQueryableSamples ?? Number.NaN,
      peakSamples: l.stats?.samples?.peakSamples ?? Number.NaN,
    };
    if (l.error !== undefined) q.error = String(l.error);
    out.push(q);
  }
  return out;
}

export async function readQueryLog(path: string): Promise<LoggedQuery[]> {
  return parseQueryLog(await readFile(path, 'utf8').catch(() => ''));
}

/** A short name for a query in tables: its kind, not its full text. */
export function queryKind(query: string): string {
  if (query === 'vector(1)') return 'preflight vector(1)';
  const quantile = /^histogram_quantile\(([0-9.]+),/.exec(query);
  if (quantile) return `latency p${Number(quantile[1]) * 100} (grouped)`;
  if (query.includes('istio_requests_total') && query.startsWith('sum by')) return 'request counts (grouped)';
  if (query.includes('istio_request_duration_milliseconds_bucket') && query.startsWith('sum by')) return 'duration buckets (grouped, sequential gates)';
  return query.length > 60 ? `${query.slice(0, 57)}...` : query;
}
