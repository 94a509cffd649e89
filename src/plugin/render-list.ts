// `kubectl canary list`: one row per release.
import { ageOf, table } from './format.js';
import type { ReleaseObject } from './release-api.js';
import { stepOf } from './render-status.js';

export function renderList(releases: readonly ReleaseObject[], now: Date, allNamespaces: boolean): string {
  const sorted = [...releases].sort((a, b) =>
    a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name));
  const header = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'PHASE', 'STEP', 'WEIGHT', 'STABLE', 'CANARY', 'GATES', 'AGE', 'MESSAGE'];
  const rows = sorted.map((r) => {
    const st = r.status ?? {};
    return [
      ...(allNamespaces ? [r.metadata.namespace] : []),
      r.metadata.name,
      st.phase ?? '-',
      stepOf(r),
      st.canaryWeight === undefined ? '-' : `${st.canaryWeight}%`,
      st.stableSubset ?? r.spec?.stable?.subset ?? r.spec?.stable?.service ?? '-',
      st.canarySubset ?? r.spec?.canary?.subset ?? r.spec?.canary?.service ?? '-',
      st.analysis?.verdict ?? '-',
      ageOf(r.metadata.creationTimestamp, now),
      st.message ?? '',
    ];
  });
  return table(header, rows).join('\n');
}
