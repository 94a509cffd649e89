// A release's sequential gates together: any failure fails, all passing
// passes, anything else continues.
import type { SequentialVerdict } from './sequential-judge.js';

export function combinedVerdict(verdicts: readonly SequentialVerdict[]): SequentialVerdict {
  if (verdicts.includes('fail')) return 'fail';
  return verdicts.length > 0 && verdicts.every((v) => v === 'pass') ? 'pass' : 'continue';
}
