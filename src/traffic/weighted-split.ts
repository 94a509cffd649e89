// The arithmetic every weighted route shares, whatever the provider: a rule
// with a list of weighted destinations (VirtualService `route`, HTTPRoute
// `backendRefs`), two of which are the release's stable and canary. The
// release owns only their two weights; other destinations keep their share,
// and the pair splits what is left (the budget).
import type { RouteView } from '../core/traffic.js';

export interface ManagedSplit {
  /** Index of the rule in the route object. */
  index: number;
  name?: string | undefined;
  /** Index of the stable / canary destination in the rule, if present. */
  stableIndex?: number | undefined;
  canaryIndex?: number | undefined;
  stableWeight: number;
  canaryWeight: number;
  /** The weight the stable+canary pair may share: the rule's total minus what other destinations get. */
  budget: number;
  /** The rule's total weight (100 for a VirtualService; the sum of the weights for an HTTPRoute). */
  total: number;
}

/** The destination weights that give the canary `percent` of the rule's budget. */
export function weightsFor(split: ManagedSplit, percent: number): { stable: number; canary: number } {
  const canary = Math.round((split.budget * percent) / 100);
  return { stable: split.budget - canary, canary };
}

/** Whether every managed rule already has exactly the weights for `percent`. */
export function splitsAt(splits: ManagedSplit[], percent: number): boolean {
  return splits.every((r) => {
    const want = weightsFor(r, percent);
    return r.stableWeight === want.stable && r.canaryWeight === want.canary;
  });
}

/** How a rule splits its traffic now, for messages: 'route "primary": v1 90%, v2 10%'. */
export function describeSplit(r: ManagedSplit, names: { stable: string; canary: string }, what = 'route'): string {
  const label = r.name !== undefined ? `"${r.name}"` : `#${r.index}`;
  const pct = (w: number) => (r.total === 100 ? `${w}%` : `${w}/${r.total}`);
  const others = r.total - r.budget;
  return `${what} ${label}: ${names.stable} ${pct(r.stableWeight)}, ${names.canary} ${pct(r.canaryWeight)}${others > 0 ? `, other destinations ${pct(others)}` : ''}`;
}

/** The provider-neutral view of the managed rule(s) that the decision function reads. */
export function splitView(
  splits: ManagedSplit[], names: { stable: string; canary: string }, revision: number, uid: string, what = 'route', applied?: RouteView['applied'],
): RouteView {
  const first = splits[0];
  return {
    isAt: (percent: number) => splitsAt(splits, percent),
    canaryAtLeast: (percent: number) => splits.every((r) => r.canaryWeight >= weightsFor(r, percent).canary),
    canaryPercent: first && first.budget > 0 ? Math.round((first.canaryWeight * 100) / first.budget) : 0,
    revision,
    uid,
    describe: splits.map((r) => describeSplit(r, names, what)).join('; '),
    ...(applied ? { applied } : {}),
  };
}
