// The short line of `kubectl get canaryreleases` (the MESSAGE column): where
// the release is, in a few words. The full story stays in status.message,
// `kubectl describe` and `kubectl canary status`.
import { ConditionType, Phase, Reason } from '../api/conditions.js';
import type { CanaryReleaseStatus } from '../api/status.js';

const ENDED: Partial<Record<string, string>> = {
  [Reason.AnalysisFailed]: 'gates failed',
  [Reason.Aborted]: 'aborted',
  [Reason.CanaryUnavailable]: 'the canary could not serve',
  [Reason.AnalysisInconclusive]: 'no verdict: too little data',
  [Reason.MetricsUnavailable]: 'no verdict: no metrics',
};

const WAITING: Partial<Record<string, string>> = {
  [Reason.WaitingForCanary]: 'waiting for the canary workload',
  [Reason.WaitingForStable]: 'waiting for the stable workload',
  [Reason.RouteInUse]: 'waiting: another release owns the route',
  [Reason.RouteNotAtStart]: 'holding: the route is not at a start',
  [Reason.PreflightFailed]: 'holding: preflight failed',
  [Reason.WaitingForRestore]: 'waiting for the old route to be restored',
  [Reason.InvalidSpec]: 'invalid spec',
  [Reason.CanaryUnavailable]: 'holding: the canary cannot serve',
};

export function summaryOf(st: CanaryReleaseStatus): string {
  const reason = st.conditions?.find((c) => c.type === ConditionType.Progressing)?.reason;
  const routable = st.conditions?.find((c) => c.type === ConditionType.TrafficRoutable);
  const drifted = st.conditions?.some((c) => c.type === ConditionType.RouteInSync && c.status === 'False');
  const w = st.canaryWeight ?? 0;
  const step = `step ${st.currentStep ?? 0}/${st.totalSteps ?? 0} at ${w}%`;
  switch (st.phase) {
    case Phase.Succeeded:
      return `${reason === Reason.AlreadyPromoted ? 'already on the canary' : 'promoted'}${drifted ? '; route changed since' : ''}`;
    case Phase.RolledBack:
      return `rolled back: ${ENDED[reason ?? ''] ?? 'to stable'}${drifted ? '; route changed since' : ''}`;
    case Phase.Failed:
      return 'failed: the workloads never became available';
    case Phase.Paused:
      return st.pausedBy === 'analysis' ? `paused by analysis at ${w}%: a person decides` : `paused at ${w}% (spec.paused)`;
    default:
      if (routable?.status === 'False') return routable.reason === Reason.RouteInUse ? WAITING[Reason.RouteInUse] as string : `holding: ${routable.reason}`;
      if (reason && WAITING[reason]) return WAITING[reason] as string;
      if (st.phase === Phase.Progressing) return reason === Reason.WaitingForAnalysis ? `${step}, waiting for analysis` : step;
      return 'starting';
  }
}
