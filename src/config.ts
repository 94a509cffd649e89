// Operator settings, from the environment (the Helm chart sets these).
import { z } from 'zod';
import { addressShapeProblem } from './api/prometheus-address.js';

const ConfigSchema = z.object({
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  /** Comma-separated namespaces to watch; empty watches all. */
  WATCH_NAMESPACES: z.string().default(''),
  /** Pin the networking.istio.io version (v1, v1beta1, v1alpha3); discovered when unset. */
  ISTIO_API_VERSION: z.string().optional(),
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HTTP_HOST: z.string().default('0.0.0.0'),
  WORKERS: z.coerce.number().int().min(1).max(64).default(4),
  /** Analysis rounds in flight at once (beside the workers), and per Prometheus address. */
  ANALYSIS_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  ANALYSIS_CONCURRENCY_PER_ADDRESS: z.coerce.number().int().min(1).max(64).default(2),
  /** How often every informer relists, so a dead watch cannot hide changes. */
  RELIST_SECONDS: z.coerce.number().int().min(10).default(600),
  /** Prometheus used by releases whose spec.analysis names none. */
  PROMETHEUS_ADDRESS: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  /**
   * Comma-separated Prometheus base URLs that spec.analysis.prometheus.address
   * may name (PROMETHEUS_ADDRESS is always allowed). Unset: only PROMETHEUS_ADDRESS.
   */
  PROMETHEUS_ALLOWED_ADDRESSES: z.string().optional(),
  /** Instance name for Events and leader election (the pod name in a cluster). */
  POD_NAME: z.string().optional(),
  POD_NAMESPACE: z.string().optional(),
  /** Only the holder of the Lease reconciles; the others keep warm caches and take over when it goes. */
  LEADER_ELECT: z.enum(['true', 'false']).default('false'),
  LEASE_NAME: z.string().default('canary-operator-leader'),
  /** Default: POD_NAMESPACE, else "default". */
  LEASE_NAMESPACE: z.string().optional(),
  LEASE_DURATION_SECONDS: z.coerce.number().int().min(2).max(300).default(15),
  /** Timeout of every Kubernetes API request except watches (Lease calls get a shorter one under leader election). */
  KUBE_API_TIMEOUT_SECONDS: z.coerce.number().min(1).max(300).default(10),
});
export type Config = z.infer<typeof ConfigSchema> & {
  namespaces: string[];
  /** For AnalysisContext.allowedPrometheusAddresses: PROMETHEUS_ALLOWED_ADDRESSES plus PROMETHEUS_ADDRESS. */
  allowedPrometheusAddresses: string[];
};

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  // An empty variable (a Helm value left blank) means "unset", not an empty value.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(set);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${why}`);
  }
  const namespaces = parsed.data.WATCH_NAMESPACES.split(',').map((s) => s.trim()).filter(Boolean);
  const listed = (parsed.data.PROMETHEUS_ALLOWED_ADDRESSES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = listed.map((a) => [a, addressShapeProblem(a)] as const).filter(([, p]) => p !== undefined);
  if (bad.length) throw new Error(`invalid configuration: PROMETHEUS_ALLOWED_ADDRESSES: ${bad.map(([a, p]) => `${JSON.stringify(a)} ${p}`).join('; ')}`);
  const allowedPrometheusAddresses = [...new Set([...listed, ...(parsed.data.PROMETHEUS_ADDRESS ? [parsed.data.PROMETHEUS_ADDRESS] : [])])];
  return { ...parsed.data, namespaces, allowedPrometheusAddresses };
}
