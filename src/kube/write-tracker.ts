// Our own writes reach the informer cache a moment later. Until they do, the
// object we got back from the write is the freshest copy, so a reconcile that
// runs in between does not act on state we have already replaced. One
// reconcile may write an object twice (the finalizer, then the status): every
// version we replaced is remembered until the cache has moved past them. What
// the write returned is kept trimmed as the caches trim (a finished release
// may keep it for good: nothing reads it again).
import type { KubernetesObject } from '@kubernetes/client-node';
import { withoutManagedFields } from './resilient-informer.js';

export class WriteTracker<T extends KubernetesObject> {
  private readonly written = new Map<string, { replaced: Set<string>; after: T }>();

  /** Records that the object at resourceVersion `before` was replaced by `after`. */
  wrote(key: string, before: string | undefined, after: T): void {
    if (!before) return;
    const replaced = new Set(this.written.get(key)?.replaced ?? []);
    replaced.add(before);
    this.written.set(key, { replaced, after: withoutManagedFields(after) });
  }

  /** The cached object, or our newer write while the cache still shows a version we replaced. */
  freshest(key: string, cached: T | undefined): T | undefined {
    const w = this.written.get(key);
    if (!w) return cached;
    const rv = cached?.metadata?.resourceVersion;
    if (cached && (rv === undefined || w.replaced.has(rv))) return w.after;
    this.written.delete(key);
    return cached;
  }
}
