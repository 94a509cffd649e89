// `kubectl canary wait`: polls the release until it has ended (and the
// operator has caught up with its spec and requests), or the timeout.
import { formatDuration } from '../core/duration.js';
import type { CommandContext } from './context.js';
import { ExitCode, TransientErrors, describeError } from './errors.js';
import { releaseOutcome } from './outcome.js';
import type { ReleaseObject } from './release-api.js';

export const POLL_MS = 1000;

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export async function waitCommand(ctx: CommandContext, name: string, opts: WaitOptions): Promise<number> {
  const { io, api, namespace } = ctx;
  const start = io.now().getTime();
  const deadline = start + opts.timeoutMs;
  let last: ReleaseObject | undefined;
  const transient = new TransientErrors((t) => io.err(t), { namespace, name, action: 'get' });
  for (;;) {
    try {
      last = await api.get(namespace, name);
      transient.ok();
      const outcome = releaseOutcome(last);
      if (outcome.ended) {
        io.out(outcome.summary);
        return outcome.exitCode;
      }
    } catch (err) {
      transient.failed(err);
    }
    const left = deadline - io.now().getTime();
    if (opts.signal?.aborted) {
      io.err(`interrupted while waiting for canaryrelease ${namespace}/${name}`);
      return ExitCode.Error;
    }
    if (left <= 0) {
      const state = last ? releaseOutcome(last).summary : describeError(transient.last, { namespace, name, action: 'get' });
      io.err(`timed out after ${formatDuration(opts.timeoutMs)} waiting for canaryrelease ${namespace}/${name} to end; ${state}`);
      return ExitCode.Error;
    }
    await io.sleep(Math.min(opts.pollMs ?? POLL_MS, left), opts.signal);
  }
}
