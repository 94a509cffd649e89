// Helpers for client-node 1.x ApiException (the HTTP status is in .code).
import { ApiException } from '@kubernetes/client-node';
import { ConflictError } from '../controller/ports.js';

export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;

/** The API server's own message, when it sent a Status body. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: string };
        if (parsed.message) return `${err.code}: ${parsed.message}`;
      } catch {
        return `${err.code}: ${body.slice(0, 300)}`;
      }
    }
    const msg = (body as { message?: string } | undefined)?.message;
    return `${err.code}: ${msg ?? err.message.split('\n')[0]}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Runs a write; a 409 becomes a ConflictError, so the reconcile retries on fresh state. */
export async function conflictGuard<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isConflict(err)) throw new ConflictError(what);
    throw err;
  }
}
