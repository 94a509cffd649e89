import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OperatorSampler, parseOperatorMetrics, parseProcStat } from '../../../bench/scale/operator-sampler.js';
import { connectionsTo, parseTlsLog } from '../../../bench/scale/tls-log.js';

describe('operator metrics sample', () => {
  test('reads RSS, CPU, heap and queue depth from /metrics, NaN when missing', () => {
    const text = [
      '# HELP canary_operator_process_resident_memory_bytes Resident memory size in bytes.',
      'canary_operator_process_resident_memory_bytes 149880832',
      'canary_operator_process_cpu_seconds_total 12.5',
      'canary_operator_process_cpu_user_seconds_total 10',
      'canary_operator_nodejs_heap_size_used_bytes 5.2e+07',
      'canary_operator_nodejs_heap_size_total_bytes 6.4e+07',
      'canary_operator_reconcile_total{outcome="ok"} 40',
      'canary_operator_reconcile_total{outcome="conflict"} 2',
    ].join('\n');
    const s = parseOperatorMetrics(text);
    expect(s).toMatchObject({ rssBytes: 149880832, cpuSeconds: 12.5, heapUsedBytes: 52_000_000, heapTotalBytes: 64_000_000, reconciles: 42 });
    expect(s.queueDepth).toBeNaN();
  });
});

describe('process figures from /proc', () => {
  test('CPU is utime + stime in clock ticks, RSS is VmRSS; a command name with spaces and parentheses is skipped whole', () => {
    const stat = '4242 (node (main) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 266 0 0 20 0 11 0 100 700000000 30000';
    const status = 'Name:\tnode\nVmPeak:\t  900000 kB\nVmRSS:\t  153600 kB\nThreads:\t11\n';
    expect(parseProcStat(stat, status)).toEqual({ cpuSeconds: 15, rssBytes: 150 * 1024 * 1024 });
  });

  test('this process: the same CPU and RSS as Node reports, within a scheduler tick and a few pages', () => {
    const before = process.cpuUsage();
    const r = parseProcStat(readFileSync('/proc/self/stat', 'utf8'), readFileSync('/proc/self/status', 'utf8'));
    const after = process.cpuUsage();
    expect(r.cpuSeconds).toBeGreaterThanOrEqual((before.user + before.system) / 1e6 - 0.02);
    expect(r.cpuSeconds).toBeLessThanOrEqual((after.user + after.system) / 1e6 + 0.02);
    expect(Math.abs(r.rssBytes - process.memoryUsage().rss)).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('OperatorSampler', () => {
  test('with a pid, samples RSS and CPU every time but reads /metrics only as often as asked, keeping its last values between', async () => {
    let scrapes = 0;
    const server = createServer((_req, res) => {
      scrapes++;
      res.end(`canary_operator_queue_depth ${scrapes}\ncanary_operator_nodejs_heap_size_used_bytes 1000\ncanary_operator_reconcile_total{outcome="ok"} ${10 * scrapes}\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const sampler = new OperatorSampler(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => process.pid);
      sampler.every(1000, 60_000);
      for (let i = 0; i < 3; i++) await sampler.sampleNow('when-due');
      expect(scrapes).toBe(1);
      expect(sampler.samples.map((s) => [s.queueDepth, s.reconciles, Number.isNaN(s.scrapeMs)])).toEqual([[1, 10, false], [1, 10, true], [1, 10, true]]);
      for (const s of sampler.samples) {
        expect(s.cpuSeconds).toBeGreaterThan(0);
        expect(s.rssBytes).toBeGreaterThan(1024 * 1024);
      }
      sampler.every(1000, 0);
      await sampler.sampleNow('when-due');
      expect(scrapes).toBe(2);
      expect(sampler.samples.at(-1)).toMatchObject({ queueDepth: 2, reconciles: 20 });
      // The last sample of a run reads /metrics whatever the cadence.
      sampler.every(1000, 60_000);
      await sampler.sampleNow();
      expect(scrapes).toBe(3);
      expect(sampler.samples.at(-1)).toMatchObject({ queueDepth: 3, reconciles: 30 });
    } finally {
      server.close();
    }
  });

  test('a /metrics answer that is not 200 is a missed scrape: the sample keeps the last values read', async () => {
    let scrapes = 0;
    const server = createServer((_req, res) => {
      scrapes++;
      if (scrapes === 2) return void res.writeHead(500).end('collect failed');
      res.end(`canary_operator_queue_depth ${scrapes}\ncanary_operator_nodejs_heap_size_used_bytes 1000\ncanary_operator_reconcile_total{outcome="ok"} ${10 * scrapes}\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const sampler = new OperatorSampler(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => process.pid);
      for (let i = 0; i < 3; i++) await sampler.sampleNow();
      expect(scrapes).toBe(3);
      expect(sampler.samples.map((s) => [s.queueDepth, s.reconciles, s.heapUsedBytes, Number.isNaN(s.scrapeMs)])).toEqual([
        [1, 10, 1000, false], [1, 10, 1000, true], [3, 30, 1000, false],
      ]);
    } finally {
      server.close();
    }
  });
});

describe('TLS connection log', () => {
  test('counts new connections to a port in a window', () => {
    const conns = parseTlsLog('1000 127.0.0.1:6443\n1500 127.0.0.1:6443\n1600 127.0.0.1:9090\ngarbage\n2500 127.0.0.1:6443\n');
    expect(conns).toHaveLength(4);
    expect(connectionsTo(conns, 6443, 1000, 2000)).toBe(2);
  });
});
