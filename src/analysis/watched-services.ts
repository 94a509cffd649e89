// The Services whose series the grouped queries read: those of releases that
// are still running. Every release's round shares one grouped query per
// evaluation time, so the list must be the same for all of them; it changes
// only when a release starts or ends, not with each round. A mesh's other
// services (often thousands, with many series each) are never read.
export class WatchedServices {
  private readonly byRelease = new Map<string, string>();
  private names: readonly string[] | undefined = [];

  /** The Services a running release is measured on. */
  set(key: string, services: readonly string[]): void {
    const joined = [...new Set(services)].sort().join('\n');
    if (this.byRelease.get(key) === joined) return;
    this.byRelease.set(key, joined);
    this.names = undefined;
  }

  /** A release that ended or was deleted. */
  delete(key: string): void {
    if (this.byRelease.delete(key)) this.names = undefined;
  }

  /** Every running release's Services, sorted: the same list for every round until a release starts or ends. */
  list(): readonly string[] {
    if (!this.names) {
      const all = new Set<string>();
      for (const joined of this.byRelease.values()) for (const s of joined.split('\n')) if (s) all.add(s);
      this.names = [...all].sort();
    }
    return this.names;
  }
}
