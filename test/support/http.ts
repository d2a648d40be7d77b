/**
 * A small JSON client for the API under test. Requests share a keep-alive
 * pool, as they would behind a load balancer: thousands can be in flight at
 * once without thousands of simultaneous TCP handshakes.
 */
import http from 'node:http';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: h });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await send(base + path, method, headers, body);
  const text = res.text;
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export async function newBuyer(base: string, name = 'Test Buyer'): Promise<{ buyerId: string; token: string }> {
  const r = await call(base, 'POST', '/v1/dev/buyers', { body: { name } });
  if (r.status !== 201) throw new Error(`creating a buyer failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface EventOptions {
  name?: string;
  holdSeconds?: number;
  maxSeatsPerBuyer?: number;
  waitingRoom?: { enabled: boolean; maxActiveCheckouts?: number; admitPerMinute?: number };
  sections?: { id: string; name: string; rows: number; seatsPerRow: number; priceCents: number }[];
  onSaleAt?: string;
  open?: boolean;
}

/** Creates an event (waiting room off unless asked) and opens it. */
export async function createEvent(base: string, adminToken: string, o: EventOptions = {}): Promise<string> {
  const r = await call(base, 'POST', '/v1/admin/events', {
    token: adminToken,
    body: {
      name: o.name ?? 'Test Event',
      holdSeconds: o.holdSeconds ?? 300,
      maxSeatsPerBuyer: o.maxSeatsPerBuyer ?? 6,
      waitingRoom: o.waitingRoom ?? { enabled: false },
      sections: o.sections ?? [{ id: 'A', name: 'Floor A', rows: 5, seatsPerRow: 10, priceCents: 5000 }],
      ...(o.onSaleAt && { onSaleAt: o.onSaleAt }),
    },
  });
  if (r.status !== 201) throw new Error(`creating an event failed: ${r.status} ${JSON.stringify(r.body)}`);
  if (o.open !== false) {
    const opened = await call(base, 'POST', `/v1/admin/events/${r.body.eventId}/open`, { token: adminToken });
    if (opened.status !== 200) throw new Error(`opening failed: ${opened.status} ${JSON.stringify(opened.body)}`);
  }
  return r.body.eventId;
}
