// The PromQL of each gate for one release, as status shows it: what a person
// pastes into Prometheus to see the same number. (The operator itself sends
// the grouped queries of prometheus/queries.ts, shared by all releases.)
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
