// The write every provider makes: a JSON Patch of single weights, guarded by
// the object's resourceVersion. A write that loses a race is retried on the
// live object (the weight to set is recorded in status already), a few times,
// then the reconcile fails and is retried with backoff.
import { PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { ConflictError } from '../controller/ports.js';
import { conflictGuard } from '../kube/errors.js';

export const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
/** Writes that lose a race are retried on the live object this many times before the reconcile gives up. */
const WRITE_ATTEMPTS = 3;

export interface GuardedPatch {
  /** The object as named in messages: 'VirtualService prod/reviews'. */
  what: string;
  /** The freshest copy this process has (its own last write, or the cache). */
  current: KubernetesObject | undefined;
  /** The operations for an object (empty: already there), or why the object cannot be edited. */
  opsFor(obj: KubernetesObject): { ok: true; ops: unknown[] } | { ok: false; message: string };
  patch(ops: unknown[]): Promise<unknown>;
  /** Reads the live object after a conflict. */
  reread(): Promise<unknown>;
  /** Told of each successful write, with the resourceVersion it replaced. */
  wrote(before: string, updated: KubernetesObject): void;
}

export async function guardedPatch(p: GuardedPatch): Promise<'written' | 'unchanged'> {
  let obj = p.current;
  for (let attempt = 1; ; attempt++) {
    if (!obj) throw new Error(`${p.what} not found`);
    const ops = p.opsFor(obj);
    if (!ops.ok) throw new Error(ops.message);
    if (ops.ops.length === 0) return 'unchanged';
    const before = obj.metadata?.resourceVersion ?? '';
    try {
      const updated = (await conflictGuard(p.what, () => p.patch(ops.ops))) as KubernetesObject;
      p.wrote(before, updated);
      return 'written';
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= WRITE_ATTEMPTS) throw err;
      obj = (await p.reread()) as KubernetesObject;
    }
  }
}
