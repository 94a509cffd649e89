import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface WaitForUrlOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** CA and client certificate for https URLs. */
  tls?: Pick<RequestOptions, 'ca' | 'cert' | 'key'>;
  /** Returns a reason to stop waiting early, e.g. the server process exited. */
  abortIf?: () => string | undefined;
}

interface Reply {
  status: number;
  body: string;
}

function get(url: URL, tls: WaitForUrlOptions['tls'], timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { ...tls, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `url` until it answers 200 and returns the body; throws with the last answer or error otherwise. */
export async function waitForUrl(url: string, opts: WaitForUrlOptions): Promise<string> {
  const target = new URL(url);
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'no attempt';
  for (;;) {
    const aborted = opts.abortIf?.();
    if (aborted !== undefined) throw new Error(`gave up waiting for ${url}: ${aborted}`);
    try {
      const reply = await get(target, opts.tls, 5000);
      if (reply.status === 200) return reply.body;
      last = `HTTP ${reply.status}: ${reply.body.slice(0, 500)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`${url} not ready after ${opts.timeoutMs} ms; last answer: ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 250));
  }
}
