// Times every query the analysis sends and counts failures by kind.
import type { MetricsQuerier, QueryResult } from './client.js';

export interface QueryObserver {
  observe(seconds: number, result: QueryResult): void;
}

export class InstrumentedQuerier implements MetricsQuerier {
  constructor(private readonly inner: MetricsQuerier, private readonly observer: QueryObserver) {}

  async query(address: string, promql: string, timeoutMs: number, at?: Date): Promise<QueryResult> {
    const started = performance.now();
    const result = await this.inner.query(address, promql, timeoutMs, at);
    this.observer.observe((performance.now() - started) / 1000, result);
    return result;
  }
}
