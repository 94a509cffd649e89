// Reads the TLS connection log written by tls-connections.ts.
import { readFile } from 'node:fs/promises';

export interface TlsConnection {
  at: number;
  target: string;
}

export function parseTlsLog(text: string): TlsConnection[] {
  return text
    .split('\n')
    .map((l) => /^(\d+) (\S+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ at: Number(m[1]), target: m[2]! }));
}

export async function readTlsLog(path: string): Promise<TlsConnection[]> {
  return parseTlsLog(await readFile(path, 'utf8').catch(() => ''));
}

/** Connections to `port` opened in [from, to). */
export function connectionsTo(conns: readonly TlsConnection[], port: number, from: number, to: number): number {
  return conns.filter((c) => c.target.endsWith(`:${port}`) && c.at >= from && c.at < to).length;
}
