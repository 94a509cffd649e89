// Which releases refer to each object ("ns/Kind/name"), kept from the release
// events: a changed object wakes its releases without a scan of the
// namespace's (each status write of a release wakes the others waiting for
// its route, and a namespace may hold hundreds of releases).
export class ReferenceIndex {
  /**
   * Most objects have one referrer, held as its key alone: a Set per object cost about 130 bytes, six per
   * release (a heap snapshot at 1,000 releases: 0.76 MiB of one-element Sets).
   */
  private readonly referrers = new Map<string, string | Set<string>>();
  private readonly refsOfRelease = new Map<string, readonly string[]>();

  /** What release `key` refers to now; none once it is deleted. */
  set(key: string, refs: readonly string[]): void {
    for (const old of this.refsOfRelease.get(key) ?? []) {
      if (refs.includes(old)) continue;
      const keys = this.referrers.get(old);
      if (keys === key) this.referrers.delete(old);
      else if (typeof keys === 'object') {
        keys.delete(key);
        if (keys.size === 1) this.referrers.set(old, keys.values().next().value as string);
      }
    }
    for (const r of refs) {
      const keys = this.referrers.get(r);
      if (keys === undefined) this.referrers.set(r, key);
      else if (typeof keys === 'object') keys.add(key);
      else if (keys !== key) this.referrers.set(r, new Set([keys, key]));
    }
    if (refs.length > 0) this.refsOfRelease.set(key, [...refs]);
    else this.refsOfRelease.delete(key);
  }

  /** What release `key` refers to, as last set. */
  refsOf(key: string): readonly string[] {
    return this.refsOfRelease.get(key) ?? [];
  }

  /** The releases that refer to `ref`. */
  referrersOf(ref: string): Iterable<string> {
    const keys = this.referrers.get(ref);
    return keys === undefined ? NONE : typeof keys === 'string' ? [keys] : keys;
  }

  /** How many objects are referred to (for tests: nothing is left behind). */
  get size(): number {
    return this.referrers.size;
  }
}

const NONE: readonly string[] = [];
