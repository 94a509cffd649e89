// `kubectl canary watch`: the status, redrawn every second on a terminal, or
// one line per change (--plain, or when stdout is not a terminal), until the
// release ends or Ctrl-C.
import type { CommandContext } from './context.js';
import { TransientErrors } from './errors.js';
import { releaseOutcome } from './outcome.js';
import type { ReleaseEvent, ReleaseObject } from './release-api.js';
import { eventTime, sortEvents } from './render-events.js';
import { renderStatus, renderStatusLine } from './render-status.js';

export const INTERRUPTED = 130;
const CLEAR = '\x1b[H\x1b[2J';

export interface WatchOptions {
  plain: boolean;
  intervalMs?: number;
  signal?: AbortSignal;
}

const eventKey = (e: ReleaseEvent) =>
  `${e.metadata?.name ?? ''}|${e.reason ?? ''}|${e.message ?? ''}|${e.count ?? 1}|${eventTime(e)?.toISOString() ?? ''}`;

/** Prints only what changed since the last call: the status line and new Events. */
export class PlainPrinter {
  private lastLine = '';
  private readonly seen = new Set<string>();

  constructor(private readonly print: (text: string) => void) {}

  update(release: ReleaseObject, events: readonly ReleaseEvent[], now: Date): void {
    const line = renderStatusLine(release);
    if (line !== this.lastLine) this.print(`${now.toISOString()}  ${line}`);
    this.lastLine = line;
    for (const e of sortEvents(events)) {
      const key = eventKey(e);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const t = eventTime(e)?.toISOString() ?? now.toISOString();
      this.print(`${t}    event ${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`);
    }
  }
}

export async function watchCommand(ctx: CommandContext, name: string, opts: WatchOptions): Promise<number> {
  const { io, api, namespace } = ctx;
  const plain = opts.plain || !io.isTTY;
  const printer = new PlainPrinter((t) => io.out(t));
  const transient = new TransientErrors((t) => io.err(t), { namespace, name, action: 'get' });
  for (;;) {
    if (opts.signal?.aborted) return INTERRUPTED;
    try {
      const release = await api.get(namespace, name);
      const events = await api.events(release).catch(() => [] as ReleaseEvent[]);
      transient.ok();
      const now = io.now();
      const outcome = releaseOutcome(release);
      if (plain) printer.update(release, events, now);
      else io.out(`${CLEAR}${renderStatus(release, events, now)}\n\n${outcome.ended ? '' : 'Watching every second; Ctrl-C stops.'}`);
      if (outcome.ended) {
        io.out(outcome.summary);
        return outcome.exitCode;
      }
    } catch (err) {
      transient.failed(err);
    }
    await io.sleep(opts.intervalMs ?? 1000, opts.signal);
  }
}
