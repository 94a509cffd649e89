// The PromQL behind the analysis gates. The built-in queries are grouped over
// every service, so a round costs one query per distinct window (and
// percentile), however many releases there are; each release then picks its
// own series out of the shared result.
import { parseDuration } from '../../core/duration.js';
import type { Sample } from './client.js';

/** Whose traffic a gate looks at: Istio's destination_* labels (without a version: all of the Service's). */
export interface Workload {
  namespace: string;
  service: string;
  version?: string | undefined;
  /** Which proxy's report to read (default destination: the sidecar; waypoint in ambient mode). */
  reporter?: Reporter | undefined;
}

export type Reporter = 'destination' | 'waypoint' | 'source';

const WORKLOAD_LABELS = 'destination_service_namespace, destination_service_name, destination_version';

/**
 * The series a grouped query reads: one reporter's, and with `services` only
 * those Services' (every running release's, the same list for all of them),
 * so a mesh's other services are never read. Names are DNS labels; escaped anyway.
 */
function selectorOf(reporter: Reporter, services: readonly string[] | undefined): string {
  if (!services?.length) return `{reporter="${reporter}"}`;
  // A regex metacharacter gets a backslash, doubled inside PromQL's double-quoted string.
  const names = services.map((s) => s.replace(/[\\.^$|?*+()[\]{}"]/g, '\\\\$&')).join('|');
  return `{reporter="${reporter}",destination_service_name=~"${names}"}`;
}

// ---- windows ---------------------------------------------------------------

/** Prometheus' own duration grammar: each unit at most once, largest first. */
const PROM_DURATION = /^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;
const PROM_UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000, 1];
const FORMAT_UNITS: [string, number][] = [['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]];

/**
 * A window as a Prometheus range duration: Go-style "1m30s", "1.5m", "90s" and
 * Prometheus-style "1d" all become one canonical form ("1m30s", "24h"), so
 * equal windows give byte-identical queries that the cache can share.
 * undefined when the text is neither, or is zero (Prometheus rejects [0s]).
 */
export function toPromDuration(text: string): string | undefined {
  const ms = parseDuration(text) ?? parsePromDuration(text);
  if (ms === undefined || ms <= 0) return undefined;
  let rest = ms;
  let out = '';
  for (const [unit, size] of FORMAT_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

function parsePromDuration(text: string): number | undefined {
  const match = text === '' ? null : PROM_DURATION.exec(text);
  if (match === null) return undefined;
  return PROM_UNIT_MS.reduce((total, size, i) => total + Number(match[i + 1] ?? 0) * size, 0);
}

function windowOrThrow(window: string): string {
  const prom = toPromDuration(window);
  if (prom === undefined) throw new RangeError(`invalid analysis window ${JSON.stringify(window)}: expected a duration such as "1m" or "1m30s"`);
  return prom;
}

// ---- request counts and error rate ----------------------------------------

/** Requests per workload and response code over the window, for all services at once. */
export function requestCountsQuery(window: string, reporter: Reporter = 'destination', services?: readonly string[]): string {
  return (
    `sum by (${WORKLOAD_LABELS}, response_code) ` +
    `(increase(istio_requests_total${selectorOf(reporter, services)}[${windowOrThrow(window)}]))`
  );
}

export interface RequestStats {
  total: number;
  serverErrors: number;
  /** serverErrors / total; undefined when there was no traffic (no verdict possible). */
  errorRate: number | undefined;
}

/** Picks one workload's series out of a requestCountsQuery result. */
export function requestStats(samples: readonly Sample[], workload: Workload): RequestStats {
  let total = 0;
  let serverErrors = 0;
  for (const s of samples) {
    if (!isWorkload(s, workload)) continue;
    total += s.value;
    if (/^5[0-9][0-9]$/.test(s.labels['response_code'] ?? '')) serverErrors += s.value;
  }
  return { total, serverErrors, errorRate: total > 0 ? serverErrors / total : undefined };
}

// ---- latency ---------------------------------------------------------------

/** Latency percentile (e.g. 99 for p99) per workload over the window, for all services at once. */
export function latencyQuery(percentile: number, window: string, reporter: Reporter = 'destination', services?: readonly string[]): string {
  if (!Number.isFinite(percentile) || percentile <= 0 || percentile > 100) {
    throw new RangeError(`invalid latency percentile ${percentile}: expected a number above 0 and at most 100`);
  }
  // toPrecision drops float noise: 99.9 / 100 is 0.9990000000000001.
  const quantile = String(Number((percentile / 100).toPrecision(12)));
  return (
    `histogram_quantile(${quantile}, sum by (${WORKLOAD_LABELS}, le) ` +
    `(rate(istio_request_duration_milliseconds_bucket${selectorOf(reporter, services)}[${windowOrThrow(window)}])))`
  );
}

/** One workload's latency in milliseconds from a latencyQuery result; NaN when it had no traffic. */
export function latencyMs(samples: readonly Sample[], workload: Workload): number {
  return samples.find((s) => isWorkload(s, workload))?.value ?? Number.NaN;
}

// ---- duration histogram (sequential latency gates) -------------------------

/** Requests per workload and duration bucket over the window, for all services at once. */
export function durationBucketsQuery(window: string, reporter: Reporter = 'destination', services?: readonly string[]): string {
  return (
    `sum by (${WORKLOAD_LABELS}, le) ` +
    `(increase(istio_request_duration_milliseconds_bucket${selectorOf(reporter, services)}[${windowOrThrow(window)}]))`
  );
}

/** One workload's cumulative buckets from a durationBucketsQuery result, by boundary ("+Inf" is Infinity); empty without traffic. */
export function bucketCounts(samples: readonly Sample[], workload: Workload): { le: number; count: number }[] {
  // Summed by boundary: a workload known by its Service alone may have several series (one per version label).
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (!isWorkload(s, workload)) continue;
    const le = s.labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels['le']);
    if (!Number.isNaN(le) && Number.isFinite(s.value)) byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

function isWorkload(sample: Sample, w: Workload): boolean {
  const l = sample.labels;
  return (
    l['destination_service_namespace'] === w.namespace &&
    l['destination_service_name'] === w.service &&
    (w.version === undefined || l['destination_version'] === w.version)
  );
}

// ---- custom queries --------------------------------------------------------

export interface TemplateValues extends Workload {
  window: string;
  stableVersion?: string;
}

export type Rendered = { ok: true; promql: string } | { ok: false; message: string };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_RULE = 'a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters)';
const LABEL_RULE = 'a Kubernetes label value (letters, digits, "-", "_" and ".", starting and ending with a letter or digit, at most 63 characters)';

/**
 * Each placeholder's check. The allowed characters can neither close a PromQL
 * string ("), a matcher (}) nor a line, so a name or label cannot inject PromQL.
 */
const PLACEHOLDERS: Record<string, (v: TemplateValues) => { value: string | undefined; check: (s: string) => string | undefined; rule: string }> = {
  namespace: (v) => ({ value: v.namespace, check: (s) => (s.length <= 63 && DNS_LABEL.test(s) ? s : undefined), rule: DNS_RULE }),
  service: (v) => ({ value: v.service, check: (s) => (s.length <= 63 && DNS_LABEL.test(s) ? s : undefined), rule: DNS_RULE }),
  version: (v) => ({ value: v.version, check: (s) => (s.length <= 63 && LABEL_VALUE.test(s) ? s : undefined), rule: LABEL_RULE }),
  stableVersion: (v) => ({ value: v.stableVersion, check: (s) => (s.length <= 63 && LABEL_VALUE.test(s) ? s : undefined), rule: LABEL_RULE }),
  window: (v) => ({ value: v.window, check: toPromDuration, rule: 'a duration such as "1m", "30s" or "1m30s"' }),
};

/** Fills {{namespace}}, {{service}}, {{version}}, {{stableVersion}} and {{window}} after checking each value. */
export function renderQueryTemplate(template: string, values: TemplateValues): Rendered {
  const problems: string[] = [];
  const promql = template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (whole, name: string) => {
    const placeholder = Object.hasOwn(PLACEHOLDERS, name) ? PLACEHOLDERS[name] : undefined;
    if (placeholder === undefined) {
      problems.push(`unknown placeholder {{${name}}} (known: ${Object.keys(PLACEHOLDERS).map((k) => `{{${k}}}`).join(', ')})`);
      return whole;
    }
    const { value, check, rule } = placeholder(values);
    if (value === undefined) {
      problems.push(`placeholder {{${name}}} has no value here`);
      return whole;
    }
    const safe = check(value);
    if (safe === undefined) problems.push(`placeholder {{${name}}}: ${JSON.stringify(value)} is not ${rule}`);
    return safe ?? whole;
  });
  // Whatever still has "{{" after substitution is a placeholder typo such as "{{ version" or "{{version-1}}".
  if (problems.length === 0 && /\{\{|\}\}/.test(promql)) problems.push(`malformed placeholder in ${JSON.stringify(template)}`);
  const unique = [...new Set(problems)];
  return unique.length === 0 ? { ok: true, promql } : { ok: false, message: `invalid query template: ${unique.join('; ')}` };
}

export type SingleValue =
  | { ok: true; value: number }
  | { ok: false; reason: 'no-data' | 'several-series'; message: string };

/** A custom query's one number: exactly one series (or a scalar) is required. */
export function singleValue(samples: readonly Sample[]): SingleValue {
  const [first, ...rest] = samples;
  if (first === undefined) return { ok: false, reason: 'no-data', message: 'the query returned no series (no data for this window yet?)' };
  if (rest.length === 0) return { ok: true, value: first.value };
  // No labels in the message: they come from Prometheus, and the message reaches status and Events.
  return {
    ok: false,
    reason: 'several-series',
    message: `the query returned ${samples.length} series but must return exactly one (aggregate it, e.g. with sum())`,
  };
}
