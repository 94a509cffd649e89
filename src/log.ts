// JSON logs (pino), one child logger per release.
import { pino, type DestinationStream, type Logger } from 'pino';

/** Each logger's destination, for exitAfterLogs. */
const destinations = new WeakMap<Logger, DestinationStream & NodeJS.EventEmitter & { end(): void }>();

/**
 * Lines go out from a buffer, written off the event loop (sonic-boom with
 * sync: false): the lines logged while a write is under way leave together
 * with the next one, so a burst of reconciles costs a few write calls instead
 * of one blocking call per line. Exit through exitAfterLogs, which waits for
 * them.
 */
export function createLogger(level: string, destination: number | string = 1): Logger {
  const dest = pino.destination({ dest: destination, sync: false });
  const log = pino({ level, base: { component: 'canary-operator' }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  destinations.set(log, dest);
  return log;
}

/**
 * Ends the process with `code` once every line logged so far is written, at
 * most `waitMs` later. (pino's own flush at exit skips a line whose write is
 * under way: the last words before an exit, such as "lost leadership", would
 * be lost or come out of order.)
 */
export function exitAfterLogs(log: Logger, code: number, waitMs = 1000, exit: (code: number) => void = (c) => process.exit(c)): void {
  process.exitCode = code;
  const dest = destinations.get(log);
  if (!dest) return exit(code);
  let exited = false;
  const once = () => {
    if (exited) return;
    exited = true;
    clearTimeout(timer);
    exit(code);
  };
  const timer = setTimeout(once, waitMs);
  dest.once('close', once);
  dest.end();
}
