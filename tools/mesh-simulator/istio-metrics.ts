// Istio's standard request metrics, with Istio's real names, labels and
// histogram buckets, in a prom-client Registry of their own:
//   istio_requests_total                  counter
//   istio_request_duration_milliseconds   histogram (_bucket, _sum, _count)
//   istio_tcp_connections_opened_total    counter (ztunnel's, ambient without a waypoint)
// With sidecars every request is reported twice, like the client's and the
// server's sidecars do: reporter="source" and reporter="destination"
// (requests that never reached a workload, e.g. 404 NR or 503 UH, only by the
// source), so queries must filter on reporter. In ambient mode a waypoint
// reports each request once, reporter="waypoint", with the same labels: the
// client as source_*, the workload that answered as destination_* (istio/istio
// #51313); the waypoint itself shows only in the scrape target's labels
// (pod, namespace), which a single simulated target cannot vary. Without a
// waypoint there are no L7 metrics: the destination's ztunnel counts
// connections, reporter="destination", request_protocol="tcp".
import { Counter, Histogram, Registry } from 'prom-client';

/** Istio's default buckets for istio_request_duration_milliseconds. */
export const ISTIO_DURATION_BUCKETS_MS = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export const ISTIO_LABEL_NAMES = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;

export type IstioLabelName = (typeof ISTIO_LABEL_NAMES)[number];
export type IstioLabels = Record<IstioLabelName, string>;

/** ztunnel's labels for TCP metrics: the request labels without the HTTP/gRPC status ones. */
export type IstioTcpLabelName = Exclude<IstioLabelName, 'response_code' | 'grpc_response_status'>;
export const ISTIO_TCP_LABEL_NAMES = ISTIO_LABEL_NAMES.filter((l): l is IstioTcpLabelName => l !== 'response_code' && l !== 'grpc_response_status');

/** Istio's default cluster id when none is configured. */
export const CLUSTER_ID = 'Kubernetes';
export const UNKNOWN = 'unknown';

/** A workload's identity as Istio's metadata exchange reports it. */
export interface WorkloadIdentity {
  workload: string;
  namespace: string;
  principal: string;
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
}

export interface ServiceIdentity {
  name: string;
  namespace: string;
  /** e.g. reviews.prod.svc.cluster.local */
  fqdn: string;
}

export const UNKNOWN_WORKLOAD: WorkloadIdentity = {
  workload: UNKNOWN,
  namespace: UNKNOWN,
  principal: UNKNOWN,
  app: UNKNOWN,
  version: UNKNOWN,
  canonicalService: UNKNOWN,
  canonicalRevision: 'latest',
};

export type Reporter = 'source' | 'destination' | 'waypoint';

export interface RequestReport {
  reporter: Reporter;
  source: WorkloadIdentity;
  /** undefined: the request reached no workload. */
  destination: WorkloadIdentity | undefined;
  service: ServiceIdentity;
  responseCode: number;
  /** Envoy response flags, "-" for none. */
  responseFlags: string;
}

export function istioLabels(r: RequestReport): IstioLabels {
  const d = r.destination ?? UNKNOWN_WORKLOAD;
  return {
    reporter: r.reporter,
    source_workload: r.source.workload,
    source_workload_namespace: r.source.namespace,
    source_principal: r.source.principal,
    source_app: r.source.app,
    source_version: r.source.version,
    source_canonical_service: r.source.canonicalService,
    source_canonical_revision: r.source.canonicalRevision,
    source_cluster: CLUSTER_ID,
    destination_workload: d.workload,
    destination_workload_namespace: d.namespace,
    destination_principal: d.principal,
    destination_app: d.app,
    destination_version: d.version,
    destination_service: r.service.fqdn,
    destination_service_name: r.service.name,
    destination_service_namespace: r.service.namespace,
    destination_canonical_service: d.canonicalService,
    destination_canonical_revision: d.canonicalRevision,
    destination_cluster: r.destination ? CLUSTER_ID : UNKNOWN,
    request_protocol: 'http',
    response_code: String(r.responseCode),
    grpc_response_status: '',
    response_flags: r.responseFlags,
    // The server's sidecar and a waypoint see the mTLS connection; the client's sidecar reports "unknown".
    connection_security_policy: r.reporter === 'source' ? UNKNOWN : 'mutual_tls',
  };
}

/** The labels ztunnel puts on a connection it accepted for a workload (HBONE, so mTLS). */
export function istioTcpLabels(c: { source: WorkloadIdentity; destination: WorkloadIdentity; service: ServiceIdentity }): Record<IstioTcpLabelName, string> {
  const { response_code: _code, grpc_response_status: _grpc, ...labels } = istioLabels({
    reporter: 'destination',
    source: c.source,
    destination: c.destination,
    service: c.service,
    responseCode: 0,
    responseFlags: '-',
  });
  return { ...labels, request_protocol: 'tcp', connection_security_policy: 'mutual_tls' };
}

export class IstioMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<IstioLabelName>;
  readonly duration: Histogram<IstioLabelName>;
  readonly tcpConnectionsOpened: Counter<IstioTcpLabelName>;

  constructor() {
    this.requests = new Counter({
      name: 'istio_requests_total',
      help: 'Total number of requests handled by the (simulated) Istio proxies',
      labelNames: ISTIO_LABEL_NAMES,
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'istio_request_duration_milliseconds',
      help: 'Request duration in milliseconds as seen by the (simulated) Istio proxies',
      labelNames: ISTIO_LABEL_NAMES,
      buckets: ISTIO_DURATION_BUCKETS_MS,
      registers: [this.registry],
    });
    this.tcpConnectionsOpened = new Counter({
      name: 'istio_tcp_connections_opened_total',
      help: 'Total number of TCP connections opened, as counted by the (simulated) ztunnel',
      labelNames: ISTIO_TCP_LABEL_NAMES,
      registers: [this.registry],
    });
  }

  /** Counts one connection accepted by the destination's ztunnel. */
  recordConnection(c: Parameters<typeof istioTcpLabels>[0]): void {
    this.tcpConnectionsOpened.inc(istioTcpLabels(c));
  }

  /** Counts one request seen by one reporter. */
  record(report: RequestReport, latencyMs: number): void {
    const labels = istioLabels(report);
    this.requests.inc(labels);
    this.duration.observe(labels, latencyMs);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
