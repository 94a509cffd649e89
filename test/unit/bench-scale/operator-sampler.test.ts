import { describe, expect, test } from '@jest/globals';
import { parseOperatorMetrics } from '../../../bench/scale/operator-sampler.js';
import { connectionsTo, parseTlsLog } from '../../../bench/scale/tls-log.js';

describe('operator metrics sample', () => {
  test('reads RSS, CPU, heap and queue depth from /metrics, NaN when missing', () => {
    const text = [
      '# HELP canary_operator_process_resident_memory_bytes Resident memory size in bytes.',
      'canary_operator_process_resident_memory_bytes 149880832',
      'canary_operator_process_cpu_seconds_total 12.5',
      'canary_operator_process_cpu_user_seconds_total 10',
      'canary_operator_nodejs_heap_size_used_bytes 5.2e+07',
      'canary_operator_reconcile_total{outcome="ok"} 40',
      'canary_operator_reconcile_total{outcome="conflict"} 2',
    ].join('\n');
    const s = parseOperatorMetrics(text);
    expect(s).toMatchObject({ rssBytes: 149880832, cpuSeconds: 12.5, heapUsedBytes: 52_000_000, reconciles: 42 });
    expect(s.queueDepth).toBeNaN();
  });
});

describe('TLS connection log', () => {
  test('counts new connections to a port in a window', () => {
    const conns = parseTlsLog('1000 127.0.0.1:6443\n1500 127.0.0.1:6443\n1600 127.0.0.1:9090\ngarbage\n2500 127.0.0.1:6443\n');
    expect(conns).toHaveLength(4);
    expect(connectionsTo(conns, 6443, 1000, 2000)).toBe(2);
  });
});
