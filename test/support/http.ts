/**
 * Calling the API under test. Happy paths go through the typed client
 * (api/client.ts), so paths, bodies and replies are checked at compile time;
 * `request` sends what the typed client cannot express (malformed or hostile
 * input, raw bodies, exact headers) and types its reply as unknown. Both
 * share a keep-alive pool, as requests would behind a load balancer:
 * thousands can be in flight at once without thousands of TCP handshakes.
 */
import http from 'node:http';
import { type ApiErrorBody, createClient, type OnsaleClient } from '../../api/client';

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

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text; // not JSON: keep the text
  }
}

/** fetch over the keep-alive pool, for the typed client. */
const pooledFetch: typeof fetch = async (input, init) => {
  const req = new Request(input, init);
  const res = await send(req.url, req.method, Object.fromEntries(req.headers), req.body === null ? undefined : await req.text());
  const bodiless = res.status < 200 || res.status === 204 || res.status === 205 || res.status === 304;
  return new Response(bodiless ? null : res.text, { status: res.status, headers: res.headers });
};

/** The typed client for the API at `base`, as a buyer or the administrator when given a token. */
export function apiClient(base: string, token?: string): OnsaleClient {
  return createClient(base, { token, fetch: pooledFetch });
}

/** A typed call's reply: the route's success body, or the error contract. */
export type Reply<T> = { status: number; headers: Headers } & ({ ok: true; body: T } | { ok: false; body: ApiErrorBody });

type Pending = Promise<{ status: number; ok: boolean; headers: Headers; text(): Promise<string>; json(): Promise<unknown> }>;

/** The JSON body of a route's success (2xx) answers; a 304 or an error says nothing about it. */
type SuccessJson<R> = R extends { ok: true; json(): Promise<infer T> } ? T : never;

/** Reads a typed call's response whatever its status. */
export async function reply<P extends Pending>(pending: P): Promise<Reply<SuccessJson<Awaited<P>>>> {
  const res = await pending;
  const body = parse(await res.text());
  return { status: res.status, headers: res.headers, ok: res.ok, body } as Reply<SuccessJson<Awaited<P>>>;
}

/** Asserts a success with this status; the reply's body then has the route's type. */
export function expectOk<T>(r: Reply<T>, status: number): asserts r is Extract<Reply<T>, { ok: true }> {
  expect({ status: r.status, body: r.body }).toMatchObject({ status });
}

/** Asserts a failure with this status (and code, when given); the reply's body is then the error contract. */
export function expectError<T>(r: Reply<T>, status: number, code?: string): asserts r is Extract<Reply<T>, { ok: false }> {
  expect({ status: r.status, body: r.body }).toMatchObject({ status, ...(code && { body: { error: { code } } }) });
}

/** The success body of a reply; a failure throws with its status and error. */
export function okBody<T>(r: Reply<T>): T {
  if (!r.ok) throw new Error(`expected a success, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A raw request's reply: nothing is assumed about the body. */
export interface RawReply {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface RawRequest {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (with a JSON content type unless `headers` says otherwise). */
  raw?: string;
  headers?: Record<string, string>;
}

/** Sends exactly this request: for malformed, hostile or raw input, and headers the typed client would not send. */
export async function request(base: string, method: string, path: string, opts: RawRequest = {}): Promise<RawReply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await send(base + path, method, headers, body);
  return { status: res.status, body: parse(res.text), headers: res.headers };
}

/** The error contract of a reply, when its body follows it. */
export function errorOf(r: { body: unknown }): ApiErrorBody['error'] | undefined {
  const e = (r.body as Partial<ApiErrorBody> | null)?.error;
  return e && typeof e === 'object' && typeof e.code === 'string' ? e : undefined;
}

export async function newBuyer(base: string, name = 'Test Buyer'): Promise<{ buyerId: string; token: string }> {
  const r = await reply(apiClient(base).v1.dev.buyers.$post({ json: { name } }));
  if (!r.ok) throw new Error(`creating a buyer failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

type EventBody = Parameters<OnsaleClient['v1']['admin']['events']['$post']>[0]['json'];
export type EventOptions = Partial<EventBody> & { open?: boolean };

/** Creates an event (waiting room off unless asked) and opens it. */
export async function createEvent(base: string, adminToken: string, o: EventOptions = {}): Promise<string> {
  const admin = apiClient(base, adminToken);
  const { open, ...rest } = o;
  const created = await reply(
    admin.v1.admin.events.$post({
      json: {
        name: 'Test Event',
        holdSeconds: 300,
        maxSeatsPerBuyer: 6,
        waitingRoom: { enabled: false },
        sections: [{ id: 'A', name: 'Floor A', rows: 5, seatsPerRow: 10, priceCents: 5000 }],
        ...rest,
      },
    }),
  );
  if (!created.ok) throw new Error(`creating an event failed: ${created.status} ${JSON.stringify(created.body)}`);
  const { eventId } = created.body;
  if (open !== false) {
    const opened = await reply(admin.v1.admin.events[':eventId'].open.$post({ param: { eventId } }));
    if (!opened.ok) throw new Error(`opening failed: ${opened.status} ${JSON.stringify(opened.body)}`);
  }
  return eventId;
}

/** Each seat's status on the event's seat map, by seat id. */
export async function seatStatuses(base: string, eventId: string): Promise<Record<string, string>> {
  const r = await reply(apiClient(base).v1.events[':eventId'].seats.$get({ param: { eventId }, header: {} }));
  if (!r.ok) throw new Error(`reading the seat map failed: ${r.status} ${JSON.stringify(r.body)}`);
  return Object.fromEntries(r.body.seats.map((s) => [s.seatId, s.status]));
}

/** The order id of a purchase that confirmed at once (200); a 202 requires_action has none, and fails here. */
export function orderIdOf(r: { status: number; body: unknown }): string {
  const id = (r.body as { orderId?: unknown } | null)?.orderId;
  if (r.status !== 200 || typeof id !== 'string') throw new Error(`expected a confirmed order, got ${r.status} ${JSON.stringify(r.body)}`);
  return id;
}

/**
 * A raw request whose JSON body the caller reads loosely. For tests that
 * assert on many reply shapes at once (journeys, admin sweeps); prefer the
 * typed client (apiClient + reply) wherever a route's types suffice.
 */
export async function call(base: string, method: string, path: string, opts: RawRequest = {}) {
  const r = await request(base, method, path, opts);
  return { ...r, body: r.body as any };
}
