// Plain aligned text tables for the benchmark's output.
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`);
export const secs = (x: number) => (Number.isNaN(x) ? '-' : x >= 600 ? `${Math.round(x / 60)}m` : `${Math.round(x)}s`);
export const count = (x: number) => (Number.isNaN(x) ? '-' : x >= 1e5 ? `${Math.round(x / 1000)}k` : Math.round(x).toLocaleString('en-US'));
