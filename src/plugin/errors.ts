// Errors the plugin reports, and turning API failures into one clear line
// that names the release and namespace.
import { terminalSafe } from './terminal-text.js';

/**
 * Exit codes: 0 done (or Succeeded), 1 the release RolledBack or Failed (the canary was judged bad, aborted or
 * could not serve), 2 usage, API error or timeout, 3 the release ended without a verdict (rolled back because
 * analysis had no conclusive data or no metrics for too long; the canary may well be healthy).
 */
export const ExitCode = { Ok: 0, ReleaseFailed: 1, Error: 2, NoVerdict: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure with a message meant for the user as is; exits 2. */
export class PluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginError';
  }
}

/** A command line that cannot be understood; the usage hint follows the message. */
export class UsageError extends PluginError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's Status body (client-node hands it over as text or as an object). */
function statusBody(err: unknown): { message?: string; reason?: string; details?: { name?: string } } | string | undefined {
  const body = (err as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as { message?: string }) : body;
    } catch {
      return body;
    }
  }
  return body && typeof body === 'object' ? (body as { message?: string }) : undefined;
}

export interface ErrorTarget {
  namespace?: string | undefined;
  name?: string | undefined;
  /** What was being done, e.g. "patch"; prefixed to errors other than not-found. */
  action?: string;
}

/** One line for the user about a failed API call. */
export function describeError(err: unknown, target: ErrorTarget): string {
  // The message quotes the API server (or whatever answered): no escape sequences, one line.
  return terminalSafe(describeErrorText(err, target));
}

function describeErrorText(err: unknown, target: ErrorTarget): string {
  if (err instanceof PluginError) return err.message;
  const where = target.name ? `canaryrelease ${target.name} in namespace ${target.namespace}` : target.namespace ? `canaryreleases in namespace ${target.namespace}` : 'canaryreleases';
  const code = statusCode(err);
  const body = statusBody(err);
  const serverMessage = typeof body === 'object' ? body.message : typeof body === 'string' ? body.trim().slice(0, 300) : undefined;
  if (code === 404) {
    // A plain-text 404 ("404 page not found") means the API group itself is not served: the CRD is missing.
    if (typeof body === 'string') {
      return 'the CanaryRelease API (canaryreleases.canary-operator.dev/v1alpha1) is not served by this cluster: is the canary-operator CRD installed?';
    }
    if (target.name) return `canaryrelease ${target.name} not found in namespace ${target.namespace}`;
    return `${where}: not found${serverMessage ? ` (${serverMessage})` : ''}`;
  }
  const prefix = `${target.action ? `${target.action} ` : ''}${where}`;
  if (code === 401) return `${prefix}: unauthorized (401): check the credentials in your kubeconfig`;
  if (code === 403) return `${prefix}: forbidden (403): ${serverMessage ?? 'your user may not do this'}`;
  if (code !== undefined) return `${prefix}: ${code}${serverMessage ? `: ${serverMessage}` : ''}`;
  const message = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const netCode = (err as { code?: unknown }).code ?? cause?.code;
  if (typeof netCode === 'string' && /^(ECONNREFUSED|ENOTFOUND|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EAI_AGAIN|CERT_|DEPTH_ZERO|UNABLE_TO|SELF_SIGNED)/.test(netCode)) {
    return `${prefix}: cannot reach the Kubernetes API server (${netCode}): ${cause?.message ?? message}`;
  }
  return `${prefix}: ${message.split('\n')[0]}`;
}

/** Errors worth retrying while waiting (the server or network hiccuped), as opposed to a missing release or no permission. */
export function isTransient(err: unknown): boolean {
  if (err instanceof PluginError) return false;
  const code = statusCode(err);
  if (code === undefined) return true;
  return code === 429 || code >= 500;
}

/**
 * For polling commands: a transient error is reported once per run of them
 * and the poll goes on; any other error ends the command.
 */
export class TransientErrors {
  /** The latest transient error, until a poll succeeds. */
  last: unknown;

  constructor(private readonly report: (text: string) => void, private readonly target: ErrorTarget) {}

  ok(): void {
    this.last = undefined;
  }

  failed(err: unknown): void {
    if (!isTransient(err)) throw err;
    if (this.last === undefined) this.report(`warning: ${describeError(err, this.target)}; retrying`);
    this.last = err;
  }
}
