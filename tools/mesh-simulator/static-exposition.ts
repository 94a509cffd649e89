// The static mode's /metrics: Istio's two request metrics in Prometheus'
// text format, written from counts computed elsewhere (no prom-client, no
// per-request work), with a compact label set:
//
//   reporter, destination_service_namespace, destination_service_name,
//   destination_version, destination_workload, response_code (and le)
//
// These are the labels the operator's queries group and filter by, plus the
// workload; the source_* and other destination_* labels of real Istio series
// are left out, which keeps a scrape of thousands of services small enough
// for one machine. One reporter per series: "destination" (sidecars) unless
// the series says "waypoint" (ambient mode with a waypoint).
import { ISTIO_DURATION_BUCKETS_MS } from './istio-metrics.js';

export const STATIC_LABEL_NAMES = [
  'reporter',
  'destination_service_namespace',
  'destination_service_name',
  'destination_version',
  'destination_workload',
  'response_code',
] as const;

/** The identity of one static series (one counter, one histogram). */
export interface StaticSeries {
  /** Default destination (sidecars); waypoint in ambient mode with a waypoint. */
  reporter?: 'destination' | 'waypoint';
  namespace: string;
  service: string;
  version: string;
  workload: string;
  code: number;
}

/** Something that writes lines of both families at a given time. */
export interface ExpositionSource {
  counterLines(nowMs: number): Iterable<string>;
  histogramLines(nowMs: number): Iterable<string>;
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The label pairs of a series without braces, e.g. reporter="destination",...,response_code="200". */
export function seriesLabels(s: StaticSeries): string {
  return (
    `reporter="${s.reporter ?? 'destination'}",destination_service_namespace="${escape(s.namespace)}",destination_service_name="${escape(s.service)}",` +
    `destination_version="${escape(s.version)}",destination_workload="${escape(s.workload)}",response_code="${s.code}"`
  );
}

const BUCKET_SUFFIXES = [...ISTIO_DURATION_BUCKETS_MS.map((le) => `,le="${le}"} `), ',le="+Inf"} '];

/** The counter line; counts are written as whole requests (floor() of a non-decreasing count never goes back). */
export function counterLine(labels: string, count: number): string {
  return `istio_requests_total{${labels}} ${Math.floor(count)}`;
}

/**
 * Whole requests per bucket from each bucket's own (fractional) count: the
 * last entry is what lies above the highest bound. Each bucket is floored on
 * its own and the cumulative counts are sums of those, so a request once
 * counted above a bound stays there. (Flooring each cumulative count instead
 * lets the few requests between two high bounds flicker between 0 and 1 from
 * scrape to scrape: phantom slow requests in a rate() window.)
 */
export function wholeBuckets(perBucket: ArrayLike<number>): { cumulative: number[]; count: number } {
  const cumulative: number[] = [];
  let count = 0;
  for (let i = 0; i < perBucket.length; i++) {
    count += Math.floor(perBucket[i]!);
    if (i < perBucket.length - 1) cumulative.push(count);
  }
  return { cumulative, count };
}

/** The histogram lines of one series (buckets, +Inf, _sum, _count) from whole cumulative counts and their total. */
export function histogramLines(labels: string, count: number, sumMs: number, cumulativeBuckets: readonly number[]): string[] {
  const out: string[] = [];
  const prefix = `istio_request_duration_milliseconds_bucket{${labels}`;
  for (let i = 0; i < cumulativeBuckets.length; i++) out.push(prefix + BUCKET_SUFFIXES[i] + cumulativeBuckets[i]);
  out.push(prefix + BUCKET_SUFFIXES[cumulativeBuckets.length] + count);
  out.push(`istio_request_duration_milliseconds_sum{${labels}} ${sumMs.toFixed(1)}`);
  out.push(`istio_request_duration_milliseconds_count{${labels}} ${count}`);
  return out;
}

const HEADERS = {
  counter: ['# HELP istio_requests_total Total number of requests handled by the (simulated) Istio proxies', '# TYPE istio_requests_total counter'],
  histogram: [
    '# HELP istio_request_duration_milliseconds Request duration in milliseconds as seen by the (simulated) Istio proxies',
    '# TYPE istio_request_duration_milliseconds histogram',
  ],
};

/**
 * The whole exposition at `nowMs` in chunks of about `linesPerChunk` lines,
 * family by family (the text format wants a family's samples together), so a
 * large scrape is streamed rather than built as one string.
 */
export function* renderExposition(sources: readonly ExpositionSource[], nowMs: number, linesPerChunk = 5000): Generator<string> {
  let lines: string[] = [];
  const flush = function* () {
    if (lines.length > 0) yield `${lines.join('\n')}\n`;
    lines = [];
  };
  for (const family of ['counter', 'histogram'] as const) {
    lines.push(...HEADERS[family]);
    for (const source of sources) {
      for (const line of family === 'counter' ? source.counterLines(nowMs) : source.histogramLines(nowMs)) {
        lines.push(line);
        if (lines.length >= linesPerChunk) yield* flush();
      }
    }
  }
  yield* flush();
}
