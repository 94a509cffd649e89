// Which releases refer to each object ("ns/Kind/name"), kept from the release
// events: a changed object wakes its releases without a scan of the
// namespace's (each status write of a release wakes the others waiting for
// its route, and a namespace may hold hundreds of releases).
export class ReferenceIndex {
  private readonly referrers = new Map<string, Set<string>>();
  private readonly refsOfRelease = new Map<string, readonly string[]>();

  /** What release `key` refers to now; none once it is deleted. */
  set(key: string, refs: readonly string[]): void {
    for (const old of this.refsOfRelease.get(key) ?? []) {
      if (refs.includes(old)) continue;
      const keys = this.referrers.get(old);
      keys?.delete(key);
      if (keys?.size === 0) this.referrers.delete(old);
    }
    for (const r of refs) {
      let keys = this.referrers.get(r);
      if (!keys) this.referrers.set(r, (keys = new Set()));
      keys.add(key);
    }
    if (refs.length > 0) this.refsOfRelease.set(key, [...refs]);
    else this.refsOfRelease.delete(key);
  }

  /** What release `key` refers to, as last set. */
  refsOf(key: string): readonly string[] {
    return this.refsOfRelease.get(key) ?? [];
  }

  /** The releases that refer to `ref`. */
  referrersOf(ref: string): ReadonlySet<string> {
    return this.referrers.get(ref) ?? EMPTY;
  }

  /** How many objects are referred to (for tests: nothing is left behind). */
  get size(): number {
    return this.referrers.size;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
