// Reads the operator's /metrics every second (or as set): resident memory,
// CPU seconds, heap, queue depth and reconciles, and how long the scrape
// itself took (each scrape costs the operator CPU, more with more releases).
export interface OperatorSample {
  at: number;
  rssBytes: number;
  cpuSeconds: number;
  heapUsedBytes: number;
  queueDepth: number;
  /** canary_operator_reconcile_total over every outcome. */
  reconciles: number;
  scrapeMs: number;
}

/** A sample's values from the text of /metrics (NaN for a missing metric). */
export function parseOperatorMetrics(text: string): Omit<OperatorSample, 'at' | 'scrapeMs'> {
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const reconciles = [...text.matchAll(/^canary_operator_reconcile_total\{[^}]*\} ([0-9.e+-]+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  return {
    reconciles,
    rssBytes: value('canary_operator_process_resident_memory_bytes'),
    cpuSeconds: value('canary_operator_process_cpu_seconds_total'),
    heapUsedBytes: value('canary_operator_nodejs_heap_size_used_bytes'),
    queueDepth: value('canary_operator_queue_depth'),
  };
}

export class OperatorSampler {
  readonly samples: OperatorSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private intervalMs = 1000;

  constructor(private readonly url: string) {}

  /** From the next sample on, one every `ms`. */
  every(ms: number): void {
    this.intervalMs = ms;
  }

  /** One sample now, whatever the interval. */
  async sampleNow(): Promise<void> {
    await this.sample();
  }

  start(): void {
    const tick = async () => {
      const started = performance.now();
      await this.sample();
      if (!this.stopped) this.timer = setTimeout(() => void tick(), Math.max(0, this.intervalMs - (performance.now() - started)));
    };
    void tick();
  }

  private async sample(): Promise<void> {
    const started = performance.now();
    const at = Date.now();
    try {
      const res = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      this.samples.push({ at, ...parseOperatorMetrics(text), scrapeMs: performance.now() - started });
    } catch {
      // A missed sample (the operator busy or stopping) leaves a gap, not a zero.
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
