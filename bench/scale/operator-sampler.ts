// Samples the operator every second (or as set): resident memory and CPU
// seconds from /proc (free for the operator), and from its /metrics heap,
// queue depth and reconciles, with how long that scrape took. /metrics is
// read less often while releases run (every 5 s, as this benchmark's
// Prometheus scrapes): a scrape costs the operator CPU and garbage, more with
// more releases (about 55 ms a scrape at N = 1,000), and read every second
// it was a sixth of the CPU the benchmark charged to the releases.
import { readFileSync } from 'node:fs';

export interface OperatorSample {
  at: number;
  rssBytes: number;
  cpuSeconds: number;
  heapUsedBytes: number;
  /** The heap V8 holds (used or not): what the heap adds to RSS. */
  heapTotalBytes: number;
  queueDepth: number;
  /** canary_operator_reconcile_total over every outcome. */
  reconciles: number;
  /** How long /metrics took; NaN in a sample that did not read it (the values above are then the last read). */
  scrapeMs: number;
}

type MetricsPart = Omit<OperatorSample, 'at' | 'scrapeMs' | 'rssBytes' | 'cpuSeconds'>;

/** A sample's values from the text of /metrics (NaN for a missing metric). */
export function parseOperatorMetrics(text: string): Omit<OperatorSample, 'at' | 'scrapeMs'> {
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const reconciles = [...text.matchAll(/^canary_operator_reconcile_total\{[^}]*\} ([0-9.e+-]+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  return {
    reconciles,
    rssBytes: value('canary_operator_process_resident_memory_bytes'),
    cpuSeconds: value('canary_operator_process_cpu_seconds_total'),
    heapUsedBytes: value('canary_operator_nodejs_heap_size_used_bytes'),
    heapTotalBytes: value('canary_operator_nodejs_heap_size_total_bytes'),
    queueDepth: value('canary_operator_queue_depth'),
  };
}

/** CPU seconds (user + system) and resident bytes of a process from /proc/PID/stat and /proc/PID/status (Linux: 100 ticks a second). */
export function parseProcStat(stat: string, status: string, ticksPerSecond = 100): { cpuSeconds: number; rssBytes: number } {
  // Fields after the command name, which is in parentheses and may hold spaces: state is the first, utime the 12th.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(rest[11]) + Number(rest[12])) / ticksPerSecond;
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN);
  return { cpuSeconds, rssBytes: rssKiB * 1024 };
}

export class OperatorSampler {
  readonly samples: OperatorSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private intervalMs = 1000;
  private metricsEveryMs = 1000;
  private lastMetrics: { at: number; values: MetricsPart } | undefined;

  /** `pid`: the operator's process, for /proc; without it (or when /proc cannot be read) RSS and CPU come from /metrics. */
  constructor(private readonly url: string, private readonly pid?: () => number | undefined) {}

  /** From the next sample on, one every `ms`, reading /metrics every `metricsMs` of them. */
  every(ms: number, metricsMs = ms): void {
    this.intervalMs = ms;
    this.metricsEveryMs = metricsMs;
  }

  /** One sample now, whatever the interval; /metrics too unless `metrics` says only when due (a last sample must not carry older values). */
  async sampleNow(metrics: 'always' | 'when-due' = 'always'): Promise<void> {
    await this.sample(metrics === 'always');
  }

  start(): void {
    const tick = async () => {
      const started = performance.now();
      await this.sample();
      if (!this.stopped) this.timer = setTimeout(() => void tick(), Math.max(0, this.intervalMs - (performance.now() - started)));
    };
    void tick();
  }

  private async sample(forceMetrics = false): Promise<void> {
    const at = Date.now();
    const proc = this.readProc();
    let scrapeMs = Number.NaN;
    let fromMetrics: ReturnType<typeof parseOperatorMetrics> | undefined;
    // The 50 ms slack keeps a 5 s cadence from slipping to every sixth tick.
    if (forceMetrics || !proc || !this.lastMetrics || at - this.lastMetrics.at >= this.metricsEveryMs - 50) {
      const started = performance.now();
      try {
        const res = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
        fromMetrics = parseOperatorMetrics(text);
        scrapeMs = performance.now() - started;
        const { rssBytes: _r, cpuSeconds: _c, ...values } = fromMetrics;
        this.lastMetrics = { at, values };
      } catch {
        // A missed scrape (the operator busy or stopping) leaves a gap, not a zero.
        if (!proc) return;
      }
    }
    if (!this.lastMetrics) return;
    const rssCpu = proc ?? { rssBytes: fromMetrics?.rssBytes ?? Number.NaN, cpuSeconds: fromMetrics?.cpuSeconds ?? Number.NaN };
    this.samples.push({ at, ...this.lastMetrics.values, ...rssCpu, scrapeMs });
  }

  private readProc(): { cpuSeconds: number; rssBytes: number } | undefined {
    const pid = this.pid?.();
    if (pid === undefined) return undefined;
    try {
      const r = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), readFileSync(`/proc/${pid}/status`, 'utf8'));
      return Number.isFinite(r.cpuSeconds) && Number.isFinite(r.rssBytes) ? r : undefined;
    } catch {
      return undefined;
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The last sample taken at or before t. */
  before(t: number): OperatorSample | undefined {
    let found: OperatorSample | undefined;
    for (const s of this.samples) if (s.at <= t) found = s;
    return found;
  }

  between(from: number, to: number): OperatorSample[] {
    return this.samples.filter((s) => s.at >= from && s.at < to);
  }
}
