import { describe, expect, test } from '@jest/globals';
import { parseQueryLog, queryKind } from '../../../bench/scale/query-log.js';

const line = JSON.stringify({
  httpRequest: { clientIP: '127.0.0.1', method: 'POST', path: '/api/v1/query' },
  params: { end: '2026-12-01T11:20:00.000Z', query: 'sum by (a) (increase(istio_requests_total{reporter="destination"}[30s]))', start: '2026-12-01T11:20:00.000Z', step: 0 },
  stats: { timings: { evalTotalTime: 0.1, execQueueTime: 0.00005, execTotalTime: 0.11 }, samples: { totalQueryableSamples: 60126, peakSamples: 20000 } },
  ts: '2026-12-01T11:20:00.350Z',
});

describe('query log', () => {
  test('reads each query with its evaluation time and Prometheus\' own stats', () => {
    expect(parseQueryLog(`${line}\n\nnot json\n`)).toEqual([{
      query: 'sum by (a) (increase(istio_requests_total{reporter="destination"}[30s]))',
      at: Date.parse('2026-12-01T11:20:00Z'),
      loggedAt: Date.parse('2026-12-01T11:20:00.350Z'),
      execSeconds: 0.11, evalSeconds: 0.1, queueSeconds: 0.00005, samples: 60126, peakSamples: 20000,
    }]);
  });

  test('names the operator\'s queries by kind', () => {
    expect(queryKind('vector(1)')).toBe('preflight vector(1)');
    expect(queryKind('histogram_quantile(0.99, sum by (x, le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[30s])))')).toBe('latency p99 (grouped)');
    expect(queryKind('sum by (destination_service_namespace, response_code) (increase(istio_requests_total{reporter="destination"}[30s]))')).toBe('request counts (grouped)');
    expect(queryKind('sum by (x, le) (increase(istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_name=~"a|b"}[30s]))')).toBe('duration buckets (grouped, sequential gates)');
  });
});
