// Evidence and counts as people read them: 0.42, 4.1, 48, 2,210, 3.1e9.
export function plainNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? 'more than 1e308' : String(n);
  if (n >= 1e6) return n.toExponential(1).replace('e+', 'e');
  if (n >= 10 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US');
  return n >= 1 ? n.toFixed(1) : n.toPrecision(2);
}
