// Kubernetes-style condition bookkeeping: lastTransitionTime moves only when
// the condition's status flips, so rewriting the same condition is a no-op.
import type { Condition } from '../api/status.js';

export interface ConditionUpdate {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export function setConditions(existing: Condition[] | undefined, updates: ConditionUpdate[], now: Date, generation: number): Condition[] {
  const out = [...(existing ?? [])];
  for (const u of updates) {
    const i = out.findIndex((c) => c.type === u.type);
    const prev = i >= 0 ? out[i] : undefined;
    const next: Condition = {
      type: u.type,
      status: u.status,
      reason: u.reason,
      message: u.message,
      lastTransitionTime: prev && prev.status === u.status ? prev.lastTransitionTime : now.toISOString(),
      observedGeneration: generation,
    };
    if (i >= 0) out[i] = next;
    else out.push(next);
  }
  return out;
}

export function findCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
