// Pure reading of an Istio DestinationRule: which subsets exist and their labels.
export interface Subset {
  name: string;
  labels: Record<string, string>;
}

export function subsetsOf(dr: unknown): Subset[] {
  const subsets = (dr as { spec?: { subsets?: unknown } } | undefined)?.spec?.subsets;
  if (!Array.isArray(subsets)) return [];
  return subsets.flatMap((s: { name?: unknown; labels?: unknown }) =>
    typeof s?.name === 'string' ? [{ name: s.name, labels: stringRecord(s.labels) }] : [],
  );
}

function stringRecord(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object') return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
