// The strings that cached objects repeat, held once. A heap snapshot of the
// operator at 1,000 releases showed each cached release, VirtualService and
// DestinationRule with its own copy of its apiVersion and kind, and each
// release with its own copies of its condition types, reasons and fixed
// messages ("The spec is valid"), its phase and its gates' verdicts: about
// 0.8 KiB a release. Only fields with few distinct values go into the pool
// (SHARED), and times that one status repeats (a condition set when the step
// started) are held once per object.
import type { KubernetesObject } from '@kubernetes/client-node';
import { StringPool } from '../util/string-pool.js';
import { withoutManagedFields } from './resilient-informer.js';

/**
 * At most 4,096 strings of at most 96 characters: about 0.6 MiB if every
 * entry were unique, a bound that does not grow with the releases.
 */
export const SHARED = new StringPool(4096, 96);

type Loose = Record<string, unknown>;
interface LooseStatus extends Loose {
  conditions?: Loose[];
  analysis?: Loose & { gates?: Loose[] };
}

/** Status times that often equal one another (a release's start, its first step, its conditions' transitions). */
const TIMES = ['releaseStartedAt', 'measureFrom', 'stepStartedAt', 'ownsRouteSince', 'completedAt', 'heldSince', 'pausedAt'] as const;

/** A custom object as the caches keep it: without managedFields, with its apiVersion and kind shared. */
export function cachedCustomObject<T extends KubernetesObject>(obj: T): T {
  const o = withoutManagedFields(obj);
  if (o.apiVersion !== undefined) o.apiVersion = SHARED.intern(o.apiVersion);
  if (o.kind !== undefined) o.kind = SHARED.intern(o.kind);
  return o;
}

/** A CanaryRelease as the cache keeps it: as cachedCustomObject, and its status's repeated strings shared. */
export function cachedRelease<T extends KubernetesObject & { status?: unknown }>(obj: T): T {
  const o = cachedCustomObject(obj);
  const st = o.status as LooseStatus | undefined;
  if (!st || typeof st !== 'object') return o;
  share(st, ['phase', 'summary', 'stableSubset', 'canarySubset']);
  // One copy per distinct time within this status.
  const times = new Map<string, string>();
  const once = (holder: Record<string, unknown>, keys: readonly string[]) => {
    for (const k of keys) {
      const v = holder[k];
      if (typeof v !== 'string') continue;
      const known = times.get(v);
      if (known === undefined) times.set(v, v);
      else holder[k] = known;
    }
  };
  once(st, TIMES);
  for (const c of Array.isArray(st.conditions) ? st.conditions : []) {
    if (!c || typeof c !== 'object') continue;
    share(c, ['type', 'status', 'reason', 'message']);
    once(c, ['lastTransitionTime']);
  }
  const a = st.analysis;
  if (a && typeof a === 'object') {
    share(a, ['verdict']);
    once(a, ['evaluatedAt', 'measuredFrom']);
    for (const g of Array.isArray(a.gates) ? a.gates : []) if (g && typeof g === 'object') share(g, ['name', 'verdict', 'threshold']);
  }
  return o;
}

/** The pooled copies of these fields (only those that hold a string: no key is added). */
function share(holder: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) {
    const v = holder[k];
    if (typeof v === 'string') holder[k] = SHARED.intern(v);
  }
}
