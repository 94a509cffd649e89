// Reads the operator's /metrics every second: resident memory, CPU seconds,
// heap and queue depth, and how long the scrape itself took.
export interface OperatorSample {
  at: number;
  rssBytes: number;
  cpuSeconds: number;
  heapUsedBytes: number;
  queueDepth: number;
  scrapeMs: number;
}

/** A sample's values from the text of /metrics (NaN for a missing metric). */
export function parseOperatorMetrics(text: string): Omit<OperatorSample, 'at' | 'scrapeMs'> {
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
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

  constructor(private readonly url: string) {}

  start(): void {
    const tick = async () => {
      const started = performance.now();
      const at = Date.now();
      try {
        const res = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        this.samples.push({ at, ...parseOperatorMetrics(text), scrapeMs: performance.now() - started });
      } catch {
        // A missed sample (the operator busy or stopping) leaves a gap, not a zero.
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), Math.max(0, 1000 - (performance.now() - started)));
    };
    void tick();
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
