// Loaded into the operator with `node --import` by the benchmark (the
// operator's code is unchanged): records every TLS connection the process
// opens, as "epoch-ms host:port" lines in $CANARY_BENCH_TLS_LOG, so the
// benchmark can set new connections beside API requests. Lines are buffered
// and written every second and at exit.
import { appendFileSync } from 'node:fs';
import tls from 'node:tls';

const file = process.env.CANARY_BENCH_TLS_LOG;
if (file) {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    try {
      appendFileSync(file, text);
    } catch {
      // A measurement aid must never break the process it measures.
    }
  };
  const connect = tls.connect;
  tls.connect = function countedConnect(this: unknown, ...args: unknown[]) {
    const [first, second] = args;
    const target =
      typeof first === 'object' && first !== null
        ? `${(first as { host?: string }).host ?? 'localhost'}:${(first as { port?: number }).port ?? ''}`
        : `${typeof second === 'string' ? second : 'localhost'}:${String(first)}`;
    pending.push(`${Date.now()} ${target}`);
    return (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  } as typeof tls.connect;
  setInterval(flush, 1000).unref();
  process.on('exit', flush);
}
