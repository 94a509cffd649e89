// The Services whose series the grouped queries read: those of releases that
// are still running, per round slot (plan.ts: roundOffsetMs). Every release of
// a slot shares one grouped query per evaluation time, so the list must be the
// same for all of them; it changes only when a release of that slot starts or
// ends, not with each round. A mesh's other services (often thousands, with
// many series each) are never read, and a slot's query reads only its own
// releases' Services, so the rounds of an interval together read each running
// release's series about once.
export class WatchedServices {
  private readonly byRelease = new Map<string, { slot: number; joined: string }>();
  private readonly names = new Map<number, readonly string[]>();

  /** The Services a running release is measured on, in the round slot of its rounds (default 0). */
  set(key: string, services: readonly string[], slot = 0): void {
    const joined = [...new Set(services)].sort().join('\n');
    const prev = this.byRelease.get(key);
    if (prev?.joined === joined && prev.slot === slot) return;
    if (prev) this.names.delete(prev.slot);
    this.byRelease.set(key, { slot, joined });
    this.names.delete(slot);
  }

  /** A release that ended or was deleted. */
  delete(key: string): void {
    const prev = this.byRelease.get(key);
    if (!prev) return;
    this.byRelease.delete(key);
    this.names.delete(prev.slot);
  }

  /** The Services of a slot's running releases, sorted: the same list for its every round until one starts or ends. */
  list(slot = 0): readonly string[] {
    let names = this.names.get(slot);
    if (!names) {
      const all = new Set<string>();
      for (const r of this.byRelease.values()) if (r.slot === slot) for (const s of r.joined.split('\n')) if (s) all.add(s);
      names = [...all].sort();
      this.names.set(slot, names);
    }
    return names;
  }
}
