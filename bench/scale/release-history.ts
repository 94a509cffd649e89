// What the benchmark saw of each CanaryRelease: every distinct status, in
// order, from its own watch; and what follows from it: transitions (each
// change of status.currentStep or phase), whether and when it ended.

export interface ObservedStatus {
  /** When the benchmark saw this status (epoch ms). */
  seenAt: number;
  resourceVersion: string;
  phase?: string;
  currentStep?: number;
  canaryWeight?: number;
  stepStartedAt?: string;
  completedAt?: string;
  /** status.analysis.evaluatedAt: the latest round's evaluation time. */
  evaluatedAt?: string;
  verdict?: string;
  summary?: string;
}

export interface ReleaseHistory {
  namespace: string;
  name: string;
  /** metadata.creationTimestamp (whole seconds). */
  creationTimestamp: string;
  statuses: ObservedStatus[];
}

export const TERMINAL_PHASES = new Set(['Succeeded', 'RolledBack', 'Failed']);

/** The status fields the benchmark keeps, from a CanaryRelease as the API returns it. */
export function observe(obj: { metadata?: { resourceVersion?: string }; status?: Record<string, unknown> }, seenAt: number): ObservedStatus | undefined {
  const st = obj.status;
  if (!st || Object.keys(st).length === 0) return undefined;
  const analysis = st.analysis as { evaluatedAt?: string; verdict?: string } | undefined;
  const o: ObservedStatus = { seenAt, resourceVersion: obj.metadata?.resourceVersion ?? '' };
  if (typeof st.phase === 'string') o.phase = st.phase;
  if (typeof st.currentStep === 'number') o.currentStep = st.currentStep;
  if (typeof st.canaryWeight === 'number') o.canaryWeight = st.canaryWeight;
  if (typeof st.stepStartedAt === 'string') o.stepStartedAt = st.stepStartedAt;
  if (typeof st.completedAt === 'string') o.completedAt = st.completedAt;
  if (typeof analysis?.evaluatedAt === 'string') o.evaluatedAt = analysis.evaluatedAt;
  if (typeof analysis?.verdict === 'string') o.verdict = analysis.verdict;
  if (typeof st.summary === 'string') o.summary = st.summary;
  return o;
}

/** Adds a status unless it is the one seen last (a relist or a repeated event). */
export function record(history: ReleaseHistory, status: ObservedStatus): void {
  if (history.statuses.at(-1)?.resourceVersion === status.resourceVersion) return;
  history.statuses.push(status);
}

const position = (s: ObservedStatus | undefined) => (s ? `${s.phase ?? ''}/${s.currentStep ?? ''}` : '');

/** Indices of the statuses that changed currentStep or phase from the one before (the first status is one). */
export function transitionIndices(statuses: readonly ObservedStatus[]): number[] {
  const out: number[] = [];
  statuses.forEach((s, i) => {
    if (position(s) !== position(statuses[i - 1])) out.push(i);
  });
  return out;
}

export function finalStatus(h: ReleaseHistory): ObservedStatus | undefined {
  return h.statuses.at(-1);
}

export function hasEnded(h: ReleaseHistory): boolean {
  return TERMINAL_PHASES.has(finalStatus(h)?.phase ?? '');
}
