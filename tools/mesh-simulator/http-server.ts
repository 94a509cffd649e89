// The simulator's HTTP endpoints: /metrics (Prometheus text format, what a
// scrape of Istio's sidecars would return), /state (the current traffic plans
// as JSON, for people and tests) and /healthz.
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IstioMetrics } from './istio-metrics.js';

/** A /metrics body written in chunks (the static mode's, which can be tens of MB). */
export interface ChunkedExposition {
  contentType: string;
  chunks(): Iterable<string>;
}

/** Writes the chunks, waiting for the socket to drain so a large scrape is never held in memory whole. */
async function stream(res: ServerResponse, exposition: ChunkedExposition): Promise<void> {
  res.writeHead(200, { 'content-type': exposition.contentType });
  for (const chunk of exposition.chunks()) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  res.end();
}

export interface MetricsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: {
  address: string;
  port: number;
  metrics: IstioMetrics;
  state: () => unknown;
  /** Served at /metrics instead of `metrics` (static mode). */
  exposition?: ChunkedExposition;
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && opts.exposition) {
      stream(res, opts.exposition).catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
    } else if (path === '/metrics') {
      opts.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
      );
    } else if (path === '/state') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(opts.state(), null, 2)}\n`);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /state\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.address, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps scrape connections alive; do not wait for them.
        server.closeAllConnections();
      }),
  };
}
