/**
 * Security properties over real HTTP: the admin credential guards every admin
 * endpoint, rate limits answer 429 with Retry-After, responses carry security
 * headers, CORS admits only configured origins, and no secret reaches the
 * logs of a real API and worker process driven through a checkout.
 */
import { randomUUID } from 'node:crypto';
import { AppProcess, freePort } from '../../harness/processes';
import { apiClient, createEvent, errorOf, expectError, expectOk, newBuyer, type RawReply, reply, request } from '../support/http';
import { type RunningApi, type RunningWorker, startApi, startWorker, testConfig } from '../../harness/stack';

jest.setTimeout(240_000);

const ALLOWED = 'https://tickets.example.com';
const config = testConfig({ CORS_ORIGINS: `${ALLOWED}, https://m.tickets.example.com` });
let api: RunningApi;
let worker: RunningWorker;

beforeAll(async () => {
  api = await startApi(config);
  worker = await startWorker(config);
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
});

test('every admin endpoint requires the admin credential', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, { open: false });
  const buyer = await newBuyer(api.url);
  const endpoints = [
    {
      method: 'POST',
      path: '/v1/admin/events',
      body: { name: 'x', sections: [{ id: 'A', name: 'A', rows: 1, seatsPerRow: 1, priceCents: 1 }] },
    },
    { method: 'GET', path: `/v1/admin/events/${eventId}` },
    { method: 'POST', path: `/v1/admin/events/${eventId}/open` },
    { method: 'POST', path: `/v1/admin/events/${eventId}/pause` },
    { method: 'POST', path: `/v1/admin/events/${eventId}/resume` },
    { method: 'POST', path: `/v1/admin/events/${eventId}/waiting-room`, body: { admitPerMinute: 10 } },
  ];
  for (const e of endpoints) {
    expect([e.path, errorOf(await request(api.url, e.method, e.path, { body: e.body }))?.code]).toEqual([e.path, 'UNAUTHENTICATED']);
    expect([e.path, errorOf(await request(api.url, e.method, e.path, { body: e.body, token: buyer.token }))?.code]).toEqual([
      e.path,
      'FORBIDDEN',
    ]);
    const wrong = config.ADMIN_TOKEN.slice(0, -1) + (config.ADMIN_TOKEN.endsWith('a') ? 'b' : 'a');
    // Not a credential at all: 401, as with no token; 403 is for a valid credential of the wrong role.
    expect([e.path, (await request(api.url, e.method, e.path, { body: e.body, token: wrong })).status]).toEqual([e.path, 401]);
  }
  const { rows } = await api.deps.pool.query('SELECT state FROM events WHERE id = $1', [eventId]);
  expect(rows[0].state).toBe('draft');
  expect((await request(api.url, 'GET', `/v1/admin/events/${eventId}`, { token: config.ADMIN_TOKEN })).status).toBe(200);
});

test('a buyer past the per-buyer limit gets 429 RATE_LIMITED with Retry-After, and nothing changes', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN);
  const b = await newBuyer(api.url);
  let limited: RawReply | undefined;
  for (let i = 0; i < 60 && !limited; i++) {
    // Seats that do not exist: each attempt is refused, and counts against the limit.
    const r = await request(api.url, 'POST', `/v1/events/${eventId}/hold`, { token: b.token, body: { seatIds: ['A-99-1'] } });
    if (r.status === 429) limited = r;
    else expect(errorOf(r)?.code).toBe('NOT_FOUND');
  }
  expect(limited && errorOf(limited)?.code).toBe('RATE_LIMITED');
  expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  // Another buyer is not affected.
  const other = await newBuyer(api.url);
  expect((await request(api.url, 'POST', `/v1/events/${eventId}/hold`, { token: other.token, body: { quantity: 1 } })).status).toBe(201);
});

test('a client past the per-IP limit on joining the queue gets 429 with Retry-After', async () => {
  // The default per-address limit is sized for shared addresses; this event sets a tight one.
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, { waitingRoom: { enabled: true, joinLimitPerIp: 20 } });
  let limited: RawReply | undefined;
  for (let i = 0; i < 40 && !limited; i++) {
    const b = await newBuyer(api.url);
    const r = await request(api.url, 'POST', `/v1/events/${eventId}/queue`, { token: b.token, body: {} });
    if (r.status === 429) limited = r;
  }
  expect(limited && errorOf(limited)?.code).toBe('RATE_LIMITED');
  expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
});

test('security headers on answers, errors included', async () => {
  for (const path of ['/healthz', '/v1/events/evt_doesnotexist000000', '/openapi.json', '/nothing']) {
    const r = await fetch(api.url + path);
    expect([path, r.headers.get('x-content-type-options')]).toEqual([path, 'nosniff']);
    expect([path, r.headers.get('x-frame-options')]).toEqual([path, 'SAMEORIGIN']);
    expect([path, r.headers.get('strict-transport-security')]).toEqual([path, expect.stringContaining('max-age=')]);
    expect([path, r.headers.get('referrer-policy')]).toEqual([path, 'no-referrer']);
    expect(r.headers.get('x-powered-by')).toBeNull();
  }
});

test('CORS admits only the configured origins', async () => {
  const preflight = (origin: string) =>
    fetch(`${api.url}/v1/events/evt_doesnotexist000000/hold`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
  const ok = await preflight(ALLOWED);
  expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  for (const origin of ['https://evil.example.com', 'https://tickets.example.com.evil.com', 'null', 'http://tickets.example.com']) {
    const r = await preflight(origin);
    expect([origin, r.headers.get('access-control-allow-origin')]).toEqual([origin, null]);
    const get = await fetch(`${api.url}/v1/events/evt_doesnotexist000000`, { headers: { origin } });
    expect([origin, get.headers.get('access-control-allow-origin')]).toEqual([origin, null]);
  }
  const get = await fetch(`${api.url}/v1/events/evt_doesnotexist000000`, { headers: { origin: ALLOWED } });
  expect(get.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  expect(get.headers.get('access-control-allow-credentials')).toBeNull();
});

test('no secret or credential appears in the logs of a real API and worker', async () => {
  const port = await freePort();
  const env = { TEMPORAL_TASK_QUEUE: `security-${randomUUID()}`, LOG_LEVEL: 'trace', API_PORT: String(port), API_HOST: '127.0.0.1' };
  const apiProc = new AppProcess('security-api', 'api/server.ts', env);
  const workerProc = new AppProcess('security-worker', 'workers/main.ts', env);
  await Promise.all([apiProc.start(), workerProc.start()]);
  const url = `http://127.0.0.1:${port}`;
  let buyerToken: string;
  try {
    const eventId = await createEvent(url, config.ADMIN_TOKEN);
    const b = await newBuyer(url);
    buyerToken = b.token;
    const event = apiClient(url, b.token).v1.events[':eventId'];
    const held = await reply(event.hold.$post({ param: { eventId }, json: { quantity: 1 }, header: {} }));
    expectOk(held, 201);
    const purchase = (paymentMethod: string) =>
      reply(event.purchase.$post({ param: { eventId }, json: { holdId: held.body.holdId, paymentMethod } }));
    expectError(await purchase('pm_card_chargeDeclined'), 402);
    expectOk(await purchase('pm_card_visa'), 200);
    // Failures log too: a wrong admin token, a bad webhook signature, a forged buyer token.
    await request(url, 'POST', '/v1/admin/events', { token: config.ADMIN_TOKEN + 'x', body: {} });
    await request(url, 'POST', '/v1/webhooks/stripe', { raw: '{}', headers: { 'stripe-signature': 't=1,v1=abc' } });
    await request(url, 'GET', `/v1/events/${eventId}/queue/me`, { token: b.token.slice(0, -2) + 'xx' });
  } finally {
    await Promise.all([apiProc.terminate(), workerProc.terminate()]);
  }
  const logs = apiProc.logText + workerProc.logText;
  expect(logs.length).toBeGreaterThan(0);
  const secrets = {
    ADMIN_TOKEN: config.ADMIN_TOKEN,
    BUYER_TOKEN_SECRET: config.BUYER_TOKEN_SECRET,
    ADMISSION_TOKEN_SECRET: config.ADMISSION_TOKEN_SECRET,
    STRIPE_WEBHOOK_SECRET: config.STRIPE_WEBHOOK_SECRET,
    STRIPE_SECRET_KEY: config.STRIPE_SECRET_KEY,
    'buyer token': buyerToken,
    'buyer token signature': buyerToken.split('.')[2]!,
  };
  const leaked = Object.entries(secrets)
    .filter(([, v]) => v && logs.includes(v))
    .map(([k]) => k);
  expect(leaked).toEqual([]);
});
