// JSON logs (pino), one child logger per release.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { component: 'canary-operator' }, timestamp: pino.stdTimeFunctions.isoTime });
}
