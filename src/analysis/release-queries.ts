// The PromQL of each gate for one release, as status shows it: what a person
// pastes into Prometheus to see the same number. (The operator itself sends
// the grouped queries of prometheus/queries.ts, shared by all releases.)
// A sequential gate shows its latest batch: both subsets' counts over the
// window since the batch before it, at the round's evaluation time.
import type { Gate } from '../api/analysis-spec.js';
import { toPromDuration, type Workload } from './prometheus/queries.js';

const selector = (w: Workload, extra = '') =>
  `{reporter="${w.reporter ?? 'destination'}",destination_service_namespace="${w.namespace}",destination_service_name="${w.service}"`
  + `${w.version === undefined ? '' : `,destination_version="${w.version}"`}${extra}}`;

export function errorRateQuery(w: Workload, window: string): string {
  const win = toPromDuration(window) ?? window;
  return `100 * sum(increase(istio_requests_total${selector(w, ',response_code=~"5.."')}[${win}])) / sum(increase(istio_requests_total${selector(w)}[${win}]))`;
}

export function latencyGateQuery(w: Workload, percentile: number, window: string): string {
  const win = toPromDuration(window) ?? window;
  const q = Number((percentile / 100).toFixed(6));
  return `histogram_quantile(${q}, sum by (le) (rate(istio_request_duration_milliseconds_bucket${selector(w)}[${win}])))`;
}

export function describeGateQuery(g: Gate, w: Workload, window: string, rendered: string | undefined): string {
  if (g.errorRate) return errorRateQuery(w, window);
  if (g.latency) return latencyGateQuery(w, g.latency.percentile, window);
  return rendered ?? g.query ?? '';
}

/** Requests by response code of both versions over a sequential gate's batch (5xx are its events). */
export function sequentialErrorsQuery(canary: Workload, stable: Workload, window: string): string {
  const win = toPromDuration(window) ?? window;
  return `sum by (${versionLabels(canary)}, response_code) (increase(istio_requests_total${bothSelector(canary, stable)}[${win}]))`;
}

/** Both versions' duration buckets over a batch: +Inf counts the requests, and those above the gate's boundary are its events. */
export function sequentialLatencyQuery(canary: Workload, stable: Workload, window: string): string {
  const win = toPromDuration(window) ?? window;
  return `sum by (${versionLabels(canary)}, le) (increase(istio_request_duration_milliseconds_bucket${bothSelector(canary, stable)}[${win}]))`;
}

/** Subsets are told apart by destination_version, Gateway API backends by their Services. */
const versionLabels = (w: Workload) => (w.version === undefined ? 'destination_service_name' : 'destination_version');

const bothSelector = (canary: Workload, stable: Workload) => {
  const versions = canary.version === undefined || stable.version === undefined
    ? `destination_service_name=~"${canary.service}|${stable.service}"`
    : `destination_service_name="${canary.service}",destination_version=~"${canary.version}|${stable.version}"`;
  return `{reporter="${canary.reporter ?? 'destination'}",destination_service_namespace="${canary.namespace}",${versions}}`;
};
