// The harness's Prometheus config: the query log is set only when asked.
import { describe, expect, test } from '@jest/globals';
import { prometheusConfig } from '../harness/prometheus.js';

describe('prometheusConfig', () => {
  test('sets query_log_file only when a query log is asked for', () => {
    const plain = JSON.parse(prometheusConfig({ targets: ['127.0.0.1:1'], scrapeIntervalSeconds: 5 })) as { global: Record<string, unknown> };
    expect(plain.global).toEqual({ scrape_interval: '5s', scrape_timeout: '5s', evaluation_interval: '5s' });
    const logged = JSON.parse(prometheusConfig({ targets: ['127.0.0.1:1'], queryLogFile: '/w/query.log' })) as { global: Record<string, unknown> };
    expect(logged.global.query_log_file).toBe('/w/query.log');
  });
});
