import { createServer, type Server } from 'node:net';

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Returns `count` distinct ports that were free on `host` a moment ago. All
 * sockets stay bound until every port is known, so the kernel cannot hand out
 * the same port twice; a small race with other processes remains.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listen(host));
    return servers.map((s) => {
      const addr = s.address();
      if (addr === null || typeof addr === 'string') throw new Error('unexpected socket address');
      return addr.port;
    });
  } finally {
    await Promise.all(servers.map(close));
  }
}
