// Small text helpers shared by the renderers: aligned columns and ages.

/** Columns separated by at least two spaces, like kubectl; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], indent = ''): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   ').trimEnd());
}

export function toDate(t: string | Date | undefined | null): Date | undefined {
  if (!t) return undefined;
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** A kubectl-style age: 45s, 3m20s, 12m, 5h3m, 20h, 3d. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 10) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export function ageOf(t: string | Date | undefined | null, now: Date): string {
  const d = toDate(t);
  return d ? formatAge(now.getTime() - d.getTime()) : '-';
}

/** A number as people read it: at most 3 decimals, no trailing zeros. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return String(Math.round(n * 1000) / 1000);
}
