// How each subset behaves: error rate, error status code and latency
// percentiles, layered from (lowest to highest precedence):
//
//   1. built-in defaults: {"errorRate": 0, "errorCode": 500, "latencyMs": {"p50": 20, "p99": 200}},
//      overridable with the simulator's `defaultBehaviour` option;
//   2. the ConfigMap `mesh-simulator` (option configMapName) in the service's namespace:
//        data:
//          behaviour.json: |
//            {
//              "*":          {"latencyMs": {"p50": 15, "p99": 150}},
//              "reviews":    {"errorRate": 0.01},
//              "reviews.v2": {"errorRate": 0.5, "errorCode": 503, "latencyMs": {"p99": 900}}
//            }
//          reviews.v3: '{"latencyMs": {"p50": 40}}'
//      Selectors: "*" (every service in the namespace), "<service>", and
//      "<service>.<subset>" (subset = DestinationRule subset name; for traffic
//      routed without subsets, the pod's `version` label). Each is applied in
//      that order, field by field. For a host routed by an HTTPRoute the
//      <service> is still the host (reviews.v2 applies to the pods of backend
//      reviews-v2 labelled version=v2), and the backend Service's own name
//      (reviews-v2) applies between "<service>" and "<service>.<subset>". Besides `behaviour.json`, any data key that
//      is a selector holds one behaviour as JSON and overrides the same
//      selector in behaviour.json;
//   3. annotations on the subset's Deployment (metadata.annotations):
//        mesh-simulator.canary-operator.dev/error-rate: "0.5"       (0..1)
//        mesh-simulator.canary-operator.dev/error-code: "503"       (100..599)
//        mesh-simulator.canary-operator.dev/latency-p50-ms: "20"    (> 0)
//        mesh-simulator.canary-operator.dev/latency-p99-ms: "200"   (> 0)
//
// Both are watched, so edits apply within a tick or two. Invalid entries are
// reported (logged) and skipped; the rest still applies.
import { z } from 'zod';

export interface Behaviour {
  /** Probability that a request fails, in [0, 1]. */
  errorRate: number;
  /** Status code of failed requests. */
  errorCode: number;
  latencyMs: { p50: number; p99: number };
}

export interface BehaviourPatch {
  errorRate?: number;
  errorCode?: number;
  latencyMs?: { p50?: number; p99?: number };
}

export const BUILTIN_BEHAVIOUR: Behaviour = { errorRate: 0, errorCode: 500, latencyMs: { p50: 20, p99: 200 } };

export const CONFIGMAP_KEY = 'behaviour.json';
export const ANNOTATION_PREFIX = 'mesh-simulator.canary-operator.dev/';
export const ANNOTATIONS = {
  errorRate: `${ANNOTATION_PREFIX}error-rate`,
  errorCode: `${ANNOTATION_PREFIX}error-code`,
  latencyP50: `${ANNOTATION_PREFIX}latency-p50-ms`,
  latencyP99: `${ANNOTATION_PREFIX}latency-p99-ms`,
} as const;

export const behaviourPatchSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).optional(),
  errorCode: z.number().int().min(100).max(599).optional(),
  latencyMs: z
    .strictObject({
      p50: z.number().positive().finite().optional(),
      p99: z.number().positive().finite().optional(),
    })
    .optional(),
});

const SELECTOR = /^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[-_.a-zA-Z0-9]+)?)$/;

/** Selector -> patch, from a behaviour ConfigMap's data. */
export type BehaviourTable = Map<string, BehaviourPatch>;

export interface Parsed<T> {
  value: T;
  /** Human-readable problems with entries that were skipped. */
  problems: string[];
}

function issues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Later patches win, field by field. */
export function mergeBehaviour(base: Behaviour, ...patches: (BehaviourPatch | undefined)[]): Behaviour {
  const out: Behaviour = { ...base, latencyMs: { ...base.latencyMs } };
  for (const p of patches) {
    if (!p) continue;
    if (p.errorRate !== undefined) out.errorRate = p.errorRate;
    if (p.errorCode !== undefined) out.errorCode = p.errorCode;
    if (p.latencyMs?.p50 !== undefined) out.latencyMs.p50 = p.latencyMs.p50;
    if (p.latencyMs?.p99 !== undefined) out.latencyMs.p99 = p.latencyMs.p99;
  }
  return out;
}

function mergePatch(a: BehaviourPatch | undefined, b: BehaviourPatch): BehaviourPatch {
  const latencyMs = a?.latencyMs || b.latencyMs ? { ...a?.latencyMs, ...b.latencyMs } : undefined;
  return { ...a, ...b, ...(latencyMs ? { latencyMs } : {}) };
}

/** Reads a behaviour ConfigMap's data (see the header for the format). */
export function parseBehaviourConfigMap(data: Record<string, string> | undefined, name = 'mesh-simulator'): Parsed<BehaviourTable> {
  const table: BehaviourTable = new Map();
  const problems: string[] = [];
  const add = (selector: string, raw: unknown, where: string) => {
    if (!SELECTOR.test(selector)) {
      problems.push(`${where}: "${selector}" is not a selector ("*", "<service>" or "<service>.<subset>")`);
      return;
    }
    const parsed = behaviourPatchSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(`${where}: ${issues(parsed.error)}`);
      return;
    }
    table.set(selector, mergePatch(table.get(selector), parsed.data));
  };
  const json = (text: string, where: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      problems.push(`${where}: invalid JSON: ${(err as Error).message}`);
      return undefined;
    }
  };
  const main = data?.[CONFIGMAP_KEY];
  if (main !== undefined) {
    const doc = json(main, `ConfigMap ${name} ${CONFIGMAP_KEY}`);
    if (doc !== undefined && (typeof doc !== 'object' || doc === null || Array.isArray(doc))) {
      problems.push(`ConfigMap ${name} ${CONFIGMAP_KEY}: expected an object of selector -> behaviour`);
    } else if (doc !== undefined) {
      for (const [selector, raw] of Object.entries(doc as Record<string, unknown>)) add(selector, raw, `ConfigMap ${name} ${CONFIGMAP_KEY} "${selector}"`);
    }
  }
  for (const [key, text] of Object.entries(data ?? {})) {
    if (key === CONFIGMAP_KEY) continue;
    const where = `ConfigMap ${name} key ${key}`;
    const doc = json(text, where);
    if (doc !== undefined) add(key, doc, where);
  }
  return { value: table, problems };
}

/** The behaviour annotations of a Deployment. */
export function parseBehaviourAnnotations(annotations: Record<string, string> | undefined, where = 'Deployment'): Parsed<BehaviourPatch> {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  const latency: Record<string, unknown> = {};
  const num = (key: string, set: (n: number) => void) => {
    const text = annotations?.[key];
    if (text === undefined) return;
    const n = text.trim() === '' ? NaN : Number(text);
    if (Number.isNaN(n)) problems.push(`${where} annotation ${key}: "${text}" is not a number`);
    else set(n);
  };
  num(ANNOTATIONS.errorRate, (n) => (raw.errorRate = n));
  num(ANNOTATIONS.errorCode, (n) => (raw.errorCode = n));
  num(ANNOTATIONS.latencyP50, (n) => (latency.p50 = n));
  num(ANNOTATIONS.latencyP99, (n) => (latency.p99 = n));
  if (Object.keys(latency).length > 0) raw.latencyMs = latency;
  // Validate each field on its own so one bad annotation does not drop the others.
  const value: BehaviourPatch = {};
  for (const [field, v] of Object.entries(raw)) {
    const parsed = behaviourPatchSchema.safeParse({ [field]: v });
    if (parsed.success) Object.assign(value, parsed.data);
    else problems.push(`${where} annotations: ${issues(parsed.error)}`);
  }
  return { value, problems };
}

/** The effective behaviour of one subset of one service. */
export function resolveBehaviour(
  defaults: Behaviour,
  table: BehaviourTable | undefined,
  service: string,
  subset: string | undefined,
  deploymentPatch: BehaviourPatch | undefined,
  backendService?: string,
): Behaviour {
  return mergeBehaviour(
    defaults,
    table?.get('*'),
    table?.get(service),
    backendService !== undefined && backendService !== service ? table?.get(backendService) : undefined,
    subset !== undefined ? table?.get(`${service}.${subset}`) : undefined,
    deploymentPatch,
  );
}
