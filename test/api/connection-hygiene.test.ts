/**
 * A rejected request never costs a keep-alive client its connection: after a
 * 413 (oversized body, declared or chunked), a 400 (malformed JSON) or a 429,
 * the next request on the same socket gets its answer. Real HTTP, Node's own
 * client with a keep-alive agent limited to one socket.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { createBuyerTokens } from '../../services/buyer-tokens';
import { createEvent, call } from '../support/http';
import { type RunningApi, startApi, testConfig } from '../../harness/stack';

const config = testConfig({ BODY_LIMIT_BYTES: '4096' });
let api: RunningApi;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
const socketIds = new WeakMap<Socket, number>();
let sockets = 0;

beforeAll(async () => {
  api = await startApi(config);
});

afterAll(async () => {
  agent.destroy();
  await api?.stop();
});

interface Answer {
  status: number;
  socket: number;
  body: string;
  connection?: string;
}

function send(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[] } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(`${api.url}${path}`, { method, agent, headers: opts.headers }, (res) => {
      const socket = res.socket;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          socket: socketIds.get(socket) ?? -1,
          body: Buffer.concat(chunks).toString(),
          connection: res.headers.connection,
        }),
      );
      res.on('error', reject);
    });
    req.on('socket', (s: Socket) => {
      if (!socketIds.has(s)) socketIds.set(s, ++sockets);
    });
    req.on('error', reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else req.end(opts.body);
  });
}

const health = () => send('GET', '/healthz');

test('413, 400 and 429 answers leave the keep-alive connection usable for the next request', async () => {
  const tokens = createBuyerTokens({ mode: 'development', secret: config.BUYER_TOKEN_SECRET, issuer: config.BUYER_TOKEN_ISSUER });
  const token = await tokens.issue!({ buyerId: 'byr_keepalive00001', name: 'K', email: 'k@buyers.onsale.test' });
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, {
    waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60 },
  });
  const limits = await call(api.url, 'POST', `/v1/admin/events/${eventId}/waiting-room`, {
    token: config.ADMIN_TOKEN,
    body: { statusLimitPerBuyer: 1, rateWindowSeconds: 600 },
  });
  expect(limits.status).toBe(200);
  await new Promise((r) => setTimeout(r, 1100)); // the event cache lives a second

  const first = await health();
  expect(first.status).toBe(200);
  const socket = first.socket;
  const json = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const rejections: [string, () => Promise<Answer>, number][] = [
    [
      'declared oversized body',
      () => send('POST', '/v1/dev/buyers', { headers: { 'content-type': 'application/json' }, body: `{"name":"${'x'.repeat(20_000)}"}` }),
      413,
    ],
    [
      'chunked oversized body',
      () =>
        send('POST', '/v1/dev/buyers', {
          headers: { 'content-type': 'application/json' },
          chunks: [Buffer.from('{"name":"'), ...Array.from({ length: 10 }, () => Buffer.alloc(4096, 'y')), Buffer.from('"}')],
        }),
      413,
    ],
    ['malformed JSON', () => send('POST', `/v1/events/${eventId}/queue`, { headers: json, body: '{"pow": {' }), 400],
    ['first status poll', () => send('GET', `/v1/events/${eventId}/queue/me`, { headers: json }), 404],
    ['over the status limit', () => send('GET', `/v1/events/${eventId}/queue/me`, { headers: json }), 429],
  ];
  for (const [what, reject, status] of rejections) {
    const r = await reject();
    expect({ what, status: r.status }).toEqual({ what, status });
    expect(JSON.parse(r.body).error.code).toEqual(expect.any(String));
    const next = await health();
    expect({ what, status: next.status, socket: next.socket }).toEqual({ what, status: 200, socket });
  }
  expect(sockets).toBe(1);
});
