// One copy of a string that many cached objects hold. JSON.parse gives every
// object its own copy of each string longer than a few characters, so a
// thousand cached releases hold a thousand "CanaryRelease", "Progressing" and
// "The spec is valid". A pool hands out the first copy it was given. It is
// bounded in entries and in the length of what it takes, so values that are
// unique per object (names, messages with numbers in them) cost at most the
// bound, not a copy per object.

export class StringPool {
  private readonly pool = new Map<string, string>();

  /**
   * @param maxEntries strings kept, at most (once full, new strings are returned as they are)
   * @param maxLength longest string taken
   */
  constructor(private readonly maxEntries: number, private readonly maxLength: number) {}

  /** The pooled copy of `s`, or `s` itself (then pooled when there is room). */
  intern<T extends string | undefined>(s: T): T {
    if (s === undefined || s.length > this.maxLength) return s;
    const known = this.pool.get(s);
    if (known !== undefined) return known as T;
    if (this.pool.size < this.maxEntries) this.pool.set(s, s);
    return s;
  }

  get size(): number {
    return this.pool.size;
  }
}
