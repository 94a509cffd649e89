// A Prometheus that stops answering: it answers the operator's preflight
// query (vector(1)) as a healthy Prometheus would, then accepts every other
// query and never sends a byte back, as an overloaded server behind a dead
// proxy does. For tests and benchmarks of a tenant pointing at it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HangingPrometheus {
  url: string;
  /** Gate queries received and left hanging. */
  readonly hanging: number;
  stop(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}

export async function startHangingPrometheus(): Promise<HangingPrometheus> {
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let hanging = 0;
  const server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      const params = new URLSearchParams(body || (req.url ?? '').split('?')[1] || '');
      if (params.get('query') === 'vector(1)') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '1'] }] } }));
        return;
      }
      hanging++;
      held.add(res);
      res.on('close', () => held.delete(res));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get hanging() {
      return hanging;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
