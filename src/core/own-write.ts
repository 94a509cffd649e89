// Whether the route still waits for the operator's own last decided write.
// The status records the weight to write before the route is written (intent
// first), with the route object's identity, its generation and the weight it
// had when the write was decided. A route that still waits for that write is
// finished without a word; any other difference is someone else's change.
import type { CanaryReleaseStatus } from '../api/status.js';
import type { RouteView } from './traffic.js';

export function ownWritePending(st: CanaryReleaseStatus, view: RouteView, finished = false): boolean {
  const want = st.canaryWeight ?? 0;
  if (view.isAt(want) || st.routeRevision === undefined) return false;
  // A re-created object starts its generations again: whatever it shows is not our unfinished write.
  if (st.routeUid !== undefined && view.uid !== st.routeUid) return false;
  // Recorded as settled (the route was at the weight when decided, or a finished release saw it land).
  if (st.previousCanaryWeight === want) return false;
  // Nobody changed the route since the decision: our write has not happened yet.
  if (view.revision === st.routeRevision) return true;
  if (st.previousCanaryWeight === undefined || !view.isAt(st.previousCanaryWeight)) return false;
  // Others edited the object (another route, a label) but our route still shows the weight it had when
  // the write was decided. A finished release records when its write landed (finalWriteSettled), so
  // any such route is still waiting for it. An active one re-applies drift anyway: only one other edit
  // is taken for "ours, not done yet", since two could be our write and a revert (warned about).
  return finished || view.revision === st.routeRevision + 1;
}

/**
 * Whether a finished release has nothing of its own left to write: no route
 * recorded, or recorded at the weight it decided. Until then it holds its
 * route, so no other release starts on a route about to change.
 */
export function finalWriteSettled(st: CanaryReleaseStatus): boolean {
  return st.routeRevision === undefined || st.previousCanaryWeight === (st.canaryWeight ?? 0);
}
