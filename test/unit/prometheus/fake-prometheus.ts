// A tiny local HTTP server standing in for Prometheus in unit tests. It
// answers with bodies recorded from a real Prometheus 2.42
// (record-fixtures.sh), chosen by the PromQL the client sent, and remembers
// each request so tests can check how the client spoke HTTP.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/prometheus/', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}.json`, 'utf8');
}

export interface Reply {
  status: number;
  body: string;
  contentType?: string;
}

export interface SeenRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  params: URLSearchParams;
}

export type Handler = (params: URLSearchParams, req: IncomingMessage, res: ServerResponse) => Reply | 'hang';

export interface FakePrometheus {
  address: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export async function startFakePrometheus(handler: Handler): Promise<FakePrometheus> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const params = req.method === 'POST' ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : url.searchParams;
      requests.push({ method: req.method ?? '', path: url.pathname, contentType: req.headers['content-type'], params });
      const reply = handler(params, req, res);
      if (reply === 'hang') return; // never answer: the client's timeout must fire
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `http://127.0.0.1:${portOf(server)}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections(); // hung requests would keep close() waiting
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound a moment ago, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function portOf(server: Server): number {
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
  return address.port;
}
