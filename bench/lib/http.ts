/**
 * A lean HTTP/1.1 client on Node's keep-alive agent. The load generator shares
 * two cores with the server, so it must spend as little CPU per request as it
 * can: no fetch streams, no header objects beyond what is sent.
 */
import http from 'node:http';

export interface HttpReply {
  status: number;
  body: string;
  /** With `raw`: the body's length as received, before any decoding. */
  bytes?: number;
  headers: http.IncomingHttpHeaders;
}

/**
 * A simulated client's address for X-Forwarded-For, from 198.18.0.0/15, the
 * block reserved for benchmarking (RFC 2544). Only ever a header value: no
 * traffic goes to these addresses.
 */
export function clientAddress(i: number): string {
  const n = i % 131_072;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

export class HttpClient {
  readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly base: string,
    maxSockets = 64,
  ) {
    const u = new URL(base);
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost' && u.hostname !== '[::1]') {
      // Load goes to this machine only.
      throw new Error(`refusing to send load to ${u.hostname}: only loopback addresses are allowed`);
    }
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number; raw?: boolean } = {},
  ): Promise<HttpReply> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.host, port: this.port, method, path, headers, agent: this.agent, timeout: opts.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const all = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, body: opts.raw ? '' : all.toString('utf8'), headers: res.headers, bytes: all.length });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout ${method} ${path}`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async json<T = any>(method: string, path: string, opts: Parameters<HttpClient['request']>[2] = {}): Promise<{ status: number; body: T }> {
    const r = await this.request(method, path, opts);
    let body: unknown = r.body;
    try {
      body = r.body ? JSON.parse(r.body) : null;
    } catch {
      // not JSON
    }
    return { status: r.status, body: body as T };
  }

  /** The status line only, then the connection is dropped: safe on endless responses such as event streams. */
  status(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<{ status: number; notFoundRoute: boolean }> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (payload) headers['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method, path, headers, agent: false, timeout: 10_000 }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 404) {
          req.destroy();
          resolve({ status, notFoundRoute: false });
          return;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status, notFoundRoute: body.includes('no route') }));
      });
      req.on('timeout', () => req.destroy(new Error(`timeout ${method} ${path}`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
