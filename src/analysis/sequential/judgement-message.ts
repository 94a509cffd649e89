// The counts behind a sequential gate's evidence, in plain words:
// "canary error rate 4.1x stable's, 17 of 67 vs 31 of 2,210".
import type { SequentialEvidence } from './ratio-evidence.js';
import type { EventSubject } from './sequential-config.js';
import { plainNumber as num } from './plain-number.js';

export function describeEvidence(state: SequentialEvidence, subject: EventSubject): string {
  const c = state.release;
  const what = subject.kind === 'errors' ? 'canary error rate' : `canary share of requests slower than ${num(subject.boundaryMs)}ms`;
  const none = subject.kind === 'errors' ? 'no errors' : `no requests slower than ${num(subject.boundaryMs)}ms`;
  const counts = `${num(c.canaryEvents)} of ${num(c.canaryRequests)} vs ${num(c.stableEvents)} of ${num(c.stableRequests)}`;
  if (c.canaryRequests === 0) return `no canary requests yet`;
  if (c.canaryEvents === 0 && c.stableEvents === 0) return `${none} yet in ${num(c.canaryRequests)} canary and ${num(c.stableRequests)} stable requests`;
  const canaryRate = c.canaryEvents / c.canaryRequests;
  if (c.stableEvents === 0) return `${what} ${percent(canaryRate)} while stable had none, ${counts}`;
  const ratio = canaryRate / (c.stableEvents / c.stableRequests);
  return `${what} ${ratio.toFixed(ratio >= 10 ? 0 : 1)}x stable's, ${counts}`;
}

const percent = (share: number) => `${Number((share * 100).toPrecision(2))}%`;
