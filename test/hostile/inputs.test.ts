/**
 * Hostile input over every endpoint, through real HTTP against the real app:
 * malformed JSON, wrong types, missing and extra fields, huge bodies and
 * arrays, unknown ids, injection-looking strings, forged and misused buyer
 * and admission tokens. Each gets its documented 4xx code and changes nothing.
 */
import Stripe from 'stripe';
import { SignJWT } from 'jose';
import { AdmissionTokens } from '../../services/admission-tokens';
import { apiClient, createEvent, errorOf, expectOk, newBuyer, reply } from '../support/http';
import { type RunningApi, type RunningWorker, startApi, startWorker, testConfig } from '../../harness/stack';
import { NASTY_STRINGS, Prober } from './probe';

jest.setTimeout(180_000);

const config = testConfig({ BODY_LIMIT_BYTES: '4096' });
let api: RunningApi;
let worker: RunningWorker;
let probe: Prober;
let eventId: string;
let roomEvent: string;
let otherEvent: string;
const buyers: { buyerId: string; token: string }[] = [];
let next = 0;
/** A different buyer each time: the per-buyer rate limit must not answer for the input under test. */
const anyBuyer = () => buyers[next++ % buyers.length]!;
const UNKNOWN_EVENT = 'evt_doesnotexist000000';

beforeAll(async () => {
  api = await startApi(config);
  worker = await startWorker(config);
  probe = new Prober(() => api.url, api.deps.pool);
  eventId = await createEvent(api.url, config.ADMIN_TOKEN, { maxSeatsPerBuyer: 4 });
  roomEvent = await createEvent(api.url, config.ADMIN_TOKEN, { waitingRoom: { enabled: true } });
  otherEvent = await createEvent(api.url, config.ADMIN_TOKEN, { waitingRoom: { enabled: true } });
  for (let i = 0; i < 12; i++) buyers.push(await newBuyer(api.url, `Hostile ${i}`));
});

afterAll(async () => {
  probe?.report('inputs');
  await worker?.stop();
  await api?.stop();
});

const MALFORMED_JSON = [
  '{',
  '{"quantity": 1,}',
  "{'quantity': 1}",
  '{"quantity":1}{"quantity":2}',
  'nul',
  '\u0000',
  '{"a":"\\x"}',
  '[',
  '{"quantity": 01}',
];
const NOT_AN_OBJECT: unknown[] = [null, [], [1, 2], 'quantity', 42, true];

test('hold: malformed, mistyped, missing, extra and out-of-range bodies', async () => {
  const path = `/v1/events/${eventId}/hold`;
  for (const raw of MALFORMED_JSON)
    await probe.rejects(eventId, { method: 'POST', path, token: anyBuyer().token, raw }, 400, 'VALIDATION_FAILED');
  for (const body of NOT_AN_OBJECT)
    await probe.rejects(eventId, { method: 'POST', path, token: anyBuyer().token, body }, 400, 'VALIDATION_FAILED');
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: anyBuyer().token, raw: '{"quantity":1,"__proto__":{"admin":true}}' },
    400,
    'VALIDATION_FAILED',
  );
  const bad: unknown[] = [
    {},
    { quantity: 0 },
    { quantity: -1 },
    { quantity: 51 },
    { quantity: 1e9 },
    { quantity: 2.5 },
    { quantity: '2' },
    { quantity: null },
    { quantity: [2] },
    { quantity: { $gt: 0 } },
    { quantity: 1, section: 7 },
    { quantity: 1, section: '' },
    { quantity: 1, extra: 1 },
    { constructor: { prototype: { admin: true } }, quantity: 1 },
    { seatIds: [] },
    { seatIds: 'A-1-1' },
    { seatIds: [1, 2] },
    { seatIds: [null] },
    { seatIds: ['A-1-1', 'A-1-1'] },
    { seatIds: ['A-1-1', 'A-1-2', 'A-1-1'] },
    { seatIds: ['A-0-1'] },
    { seatIds: ['A-1-0'] },
    { seatIds: ['A-1--1'] },
    { seatIds: ['a b-1-1'] },
    { seatIds: Array.from({ length: 51 }, (_, i) => `A-1-${i + 1}`) },
    { seatIds: ['A-1-1'], quantity: 1 },
    { seatIds: ['A-1-1'], holdSeconds: 99999 },
    ...NASTY_STRINGS.filter((s) => s.length < 1000).map((s) => ({ seatIds: [s] })),
    ...NASTY_STRINGS.filter((s) => s.length < 1000 && s !== '__proto__').map((s) => ({ quantity: 1, section: s })),
  ];
  for (const body of bad) await probe.rejects(eventId, { method: 'POST', path, token: anyBuyer().token, body }, 400, 'VALIDATION_FAILED');
  // Huge bodies and arrays stop at the body limit.
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: anyBuyer().token, body: { seatIds: Array.from({ length: 20_000 }, (_, i) => `A-1-${(i % 9) + 1}`) } },
    413,
    'PAYLOAD_TOO_LARGE',
  );
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: anyBuyer().token, raw: `{"quantity":1,"pad":"${'x'.repeat(60_000)}"}` },
    413,
    'PAYLOAD_TOO_LARGE',
  );
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: anyBuyer().token, raw: '['.repeat(5000) + ']'.repeat(5000) },
    413,
    'PAYLOAD_TOO_LARGE',
  );
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: anyBuyer().token, raw: '['.repeat(1500) + ']'.repeat(1500) },
    400,
    'VALIDATION_FAILED',
  );
  // Seats and sections the event does not have; seat limits.
  await probe.rejects(eventId, { method: 'POST', path, token: anyBuyer().token, body: { seatIds: ['A-99-1'] } }, 404, 'NOT_FOUND');
  await probe.rejects(eventId, { method: 'POST', path, token: anyBuyer().token, body: { seatIds: ['Z-1-1'] } }, 404, 'NOT_FOUND');
  await probe.rejects(eventId, { method: 'POST', path, token: anyBuyer().token, body: { seatIds: ['A-1-1', 'A-9-9'] } }, 404, 'NOT_FOUND');
  await probe.rejects(eventId, { method: 'POST', path, token: anyBuyer().token, body: { quantity: 1, section: 'ZZ' } }, 404, 'NOT_FOUND');
  // A well-formed name that means something to JavaScript is still just an unknown section.
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: anyBuyer().token, body: { quantity: 1, section: '__proto__' } },
    404,
    'NOT_FOUND',
  );
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: anyBuyer().token, body: { quantity: 1, section: 'constructor' } },
    404,
    'NOT_FOUND',
  );
  await probe.rejects(eventId, { method: 'POST', path, token: anyBuyer().token, body: { quantity: 5 } }, 422, 'LIMIT_EXCEEDED');
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: anyBuyer().token, body: { seatIds: ['A-2-1', 'A-2-2', 'A-2-3', 'A-2-4', 'A-2-5'] } },
    422,
    'LIMIT_EXCEEDED',
  );
});

test('every endpoint: ids of the wrong shape, unknown ids and injection-looking path segments', async () => {
  const t = () => anyBuyer().token;
  const hold = 'hold_' + '0'.repeat(32);
  const order = 'ord_' + '0'.repeat(32);
  const eventPaths = (id: string) => [
    { method: 'GET', path: `/v1/events/${id}` },
    { method: 'GET', path: `/v1/events/${id}/seats` },
    { method: 'GET', path: `/v1/events/${id}/seats/stream` },
    { method: 'GET', path: `/v1/events/${id}/queue/progress` },
    { method: 'GET', path: `/v1/events/${id}/queue/me`, token: t() },
    { method: 'POST', path: `/v1/events/${id}/queue`, token: t(), body: {} },
    { method: 'POST', path: `/v1/events/${id}/waitlist`, token: t(), body: { quantity: 1 } },
    { method: 'POST', path: `/v1/events/${id}/hold`, token: t(), body: { quantity: 1 } },
    { method: 'DELETE', path: `/v1/events/${id}/hold/${hold}`, token: t() },
    { method: 'POST', path: `/v1/events/${id}/purchase`, token: t(), body: { holdId: hold, paymentMethod: 'pm_card_visa' } },
    { method: 'GET', path: `/v1/admin/events/${id}`, token: config.ADMIN_TOKEN },
    { method: 'POST', path: `/v1/admin/events/${id}/open`, token: config.ADMIN_TOKEN },
    { method: 'POST', path: `/v1/admin/events/${id}/pause`, token: config.ADMIN_TOKEN },
  ];
  for (const bad of [
    'not-an-id',
    "evt_x' OR '1'='1",
    'evt_%00aaaaaaaaa',
    '..%2f..%2fetc%2fpasswd',
    'evt_' + 'a'.repeat(300),
    '%3Cscript%3E',
  ]) {
    for (const req of eventPaths(encodeURI(bad).replace(/'/g, '%27'))) await probe.rejects(eventId, req, 400, 'VALIDATION_FAILED');
  }
  for (const req of eventPaths(UNKNOWN_EVENT)) {
    const expected = req.method === 'DELETE' || req.path.endsWith('/purchase') ? 'HOLD_NOT_FOUND' : 'NOT_FOUND';
    await probe.rejects(eventId, req, 404, expected);
  }
  for (const bad of ['hold_1', 'hold_' + 'G'.repeat(32), "hold_' OR 1=1--", 'x'.repeat(100)]) {
    await probe.rejects(
      eventId,
      { method: 'DELETE', path: `/v1/events/${eventId}/hold/${encodeURIComponent(bad)}`, token: t() },
      400,
      'VALIDATION_FAILED',
    );
    await probe.rejects(
      eventId,
      { method: 'POST', path: `/v1/events/${eventId}/purchase`, token: t(), body: { holdId: bad, paymentMethod: 'pm_card_visa' } },
      400,
      'VALIDATION_FAILED',
    );
  }
  for (const bad of ['ord_1', "ord_' OR 1=1", 'ord_' + 'Z'.repeat(32)]) {
    await probe.rejects(eventId, { method: 'GET', path: `/v1/orders/${encodeURIComponent(bad)}`, token: t() }, 400, 'VALIDATION_FAILED');
  }
  await probe.rejects(eventId, { method: 'GET', path: `/v1/orders/${order}`, token: t() }, 404, 'NOT_FOUND');
  await probe.rejects(eventId, { method: 'GET', path: `/v1/orders/${order}`, token: config.ADMIN_TOKEN }, 404, 'NOT_FOUND');
  await probe.rejects(eventId, { method: 'GET', path: '/v1/nothing-here' }, 404, 'NOT_FOUND');
  // A known path with a method it does not support: 405, with Allow.
  await probe.rejects(
    eventId,
    { method: 'PUT', path: `/v1/events/${eventId}/hold`, token: t(), body: { quantity: 1 } },
    405,
    'METHOD_NOT_ALLOWED',
  );
});

test('purchase, waitlist, queue, admin and dev bodies', async () => {
  const t = () => anyBuyer().token;
  const purchase = `/v1/events/${eventId}/purchase`;
  const hold = 'hold_' + 'a'.repeat(32);
  for (const raw of MALFORMED_JSON)
    await probe.rejects(eventId, { method: 'POST', path: purchase, token: t(), raw }, 400, 'VALIDATION_FAILED');
  for (const body of [
    ...NOT_AN_OBJECT,
    {},
    { holdId: hold },
    { paymentMethod: 'pm_card_visa' },
    { holdId: hold, paymentMethod: 'card_visa' },
    { holdId: hold, paymentMethod: 42 },
    { holdId: hold, paymentMethod: 'pm_card_visa', amountCents: 1 },
    { holdId: [hold], paymentMethod: 'pm_card_visa' },
    ...NASTY_STRINGS.filter((s) => s.length < 1000 && s !== '__proto__').map((s) => ({ holdId: hold, paymentMethod: `pm_${s}` })),
  ]) {
    await probe.rejects(eventId, { method: 'POST', path: purchase, token: t(), body }, 400, 'VALIDATION_FAILED');
  }
  await probe.rejects(
    eventId,
    { method: 'POST', path: purchase, token: t(), body: { holdId: hold, paymentMethod: 'pm___proto__' } },
    404,
    'HOLD_NOT_FOUND',
  );
  await probe.rejects(
    eventId,
    {
      method: 'POST',
      path: purchase,
      token: t(),
      raw: JSON.stringify({ holdId: hold, paymentMethod: 'pm_card_visa', pad: 'x'.repeat(10_000) }),
    },
    413,
    'PAYLOAD_TOO_LARGE',
  );

  const waitlist = `/v1/events/${eventId}/waitlist`;
  for (const body of [
    ...NOT_AN_OBJECT,
    {},
    { quantity: 0 },
    { quantity: -3 },
    { quantity: 51 },
    { quantity: '1' },
    { quantity: 1, x: 1 },
  ]) {
    await probe.rejects(eventId, { method: 'POST', path: waitlist, token: t(), body }, 400, 'VALIDATION_FAILED');
  }
  const queue = `/v1/events/${roomEvent}/queue`;
  for (const body of [
    [],
    'x',
    { pow: 'x' },
    { pow: { challenge: 'x', nonce: 'abc' } },
    { pow: { challenge: 'x'.repeat(101), nonce: '1' } },
    { position: 1 },
  ]) {
    await probe.rejects(roomEvent, { method: 'POST', path: queue, token: t(), body }, 400, 'VALIDATION_FAILED');
  }

  const admin = '/v1/admin/events';
  const section = { id: 'A', name: 'Floor', rows: 1, seatsPerRow: 1, priceCents: 100 };
  for (const body of [
    ...NOT_AN_OBJECT,
    {},
    { name: 'x' },
    { name: '', sections: [section] },
    { name: '   ', sections: [section] },
    { name: 'x'.repeat(201), sections: [section] },
    { name: 'x', sections: [] },
    { name: 'x', sections: [section, section] },
    { name: 'x', sections: [{ ...section, rows: 0 }] },
    { name: 'x', sections: [{ ...section, rows: -1 }] },
    { name: 'x', sections: [{ ...section, priceCents: -1 }] },
    { name: 'x', sections: [{ ...section, priceCents: 1.5 }] },
    { name: 'x', sections: [{ ...section, rows: 1000, seatsPerRow: 1000 }] },
    { name: 'x', sections: [{ ...section, id: "A'; DROP TABLE events;--" }] },
    { name: 'x', sections: [{ ...section, extra: true }] },
    { name: 'x', holdSeconds: 0, sections: [section] },
    { name: 'x', holdSeconds: 10_000, sections: [section] },
    { name: 'x', maxSeatsPerBuyer: 0, sections: [section] },
    { name: 'x', onSaleAt: 'tomorrow', sections: [section] },
    { name: 'x', waitingRoom: { enabled: 'yes' }, sections: [section] },
    { name: 'x', sections: [section], admin: true },
  ]) {
    await probe.rejects(eventId, { method: 'POST', path: admin, token: config.ADMIN_TOKEN, body }, 400, 'VALIDATION_FAILED');
  }
  for (const raw of MALFORMED_JSON)
    await probe.rejects(eventId, { method: 'POST', path: admin, token: config.ADMIN_TOKEN, raw }, 400, 'VALIDATION_FAILED');

  for (const body of [{ name: '' }, { name: 'x'.repeat(101) }, { email: 'not-an-email' }, { name: 'x', buyerId: 'byr_admin' }, [], 'x']) {
    await probe.rejects(eventId, { method: 'POST', path: '/v1/dev/buyers', body }, 400, 'VALIDATION_FAILED');
  }
});

async function signBuyer(
  claims: Record<string, unknown>,
  opts: { secret?: string; issuer?: string; audience?: string; exp?: number | string } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(opts.issuer ?? config.BUYER_TOKEN_ISSUER)
    .setAudience(opts.audience ?? 'onsale-api')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '1h')
    .sign(new TextEncoder().encode(opts.secret ?? config.BUYER_TOKEN_SECRET));
}

test('buyer tokens: missing, forged, expired, mis-addressed, tampered and unsigned', async () => {
  const path = `/v1/events/${eventId}/hold`;
  const real = anyBuyer();
  const [h, p, s] = real.token.split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: buyers[5]!.buyerId })).toString('base64url')}.${s}`;
  const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
  const tokens = [
    'not-a-real-token-at-all',
    'a.b.c.d.e.f.g.h.i.j',
    tampered,
    unsigned,
    `${h}.${p}.${'A'.repeat(s!.length)}`,
    await signBuyer({ sub: real.buyerId }, { secret: 'a-different-secret-of-enough-length' }),
    await signBuyer({ sub: real.buyerId }, { exp: Math.floor(Date.now() / 1000) - 60 }),
    await signBuyer({ sub: real.buyerId }, { issuer: 'someone-else' }),
    await signBuyer({ sub: real.buyerId }, { audience: 'onsale-admin' }),
    await signBuyer({}),
    await signBuyer({ sub: "byr_x' OR '1'='1" }),
    await signBuyer({ sub: 'x'.repeat(500) }),
    config.ADMIN_TOKEN,
    'x'.repeat(5000),
  ];
  for (const token of tokens) await probe.rejects(eventId, { method: 'POST', path, token, body: { quantity: 1 } }, 401, 'UNAUTHENTICATED');
  for (const authorization of [
    '',
    'Bearer',
    'Bearer ',
    `Basic ${Buffer.from('a:b').toString('base64')}`,
    `bearer${real.token}`,
    `Token ${real.token}`,
  ]) {
    await probe.rejects(eventId, { method: 'POST', path, headers: { authorization }, body: { quantity: 1 } }, 401, 'UNAUTHENTICATED');
  }
  for (const req of [
    { method: 'GET', path: `/v1/events/${eventId}/queue/me` },
    { method: 'POST', path: `/v1/events/${eventId}/purchase`, body: { holdId: 'hold_' + '0'.repeat(32), paymentMethod: 'pm_card_visa' } },
    { method: 'DELETE', path: `/v1/events/${eventId}/hold/hold_${'0'.repeat(32)}` },
    { method: 'GET', path: `/v1/orders/ord_${'0'.repeat(32)}` },
    { method: 'POST', path: `/v1/events/${eventId}/waitlist`, body: { quantity: 1 } },
  ]) {
    await probe.rejects(eventId, { ...req, token: tokens[6] }, 401, 'UNAUTHENTICATED');
  }
});

test("admission tokens: forged, expired, another buyer's or event's, and replayed after use", async () => {
  const admissions = new AdmissionTokens(config.ADMISSION_TOKEN_SECRET, api.deps.redis);
  const forger = new AdmissionTokens('a-different-secret-of-enough-length', api.deps.redis);
  const path = `/v1/events/${roomEvent}/hold`;
  const me = anyBuyer();
  const other = anyBuyer();
  const inAMinute = Date.now() + 60_000;
  const tokens = [
    'eyJhbGciOiJIUzI1NiJ9.e30.forged',
    await forger.issue({ buyerId: me.buyerId, eventId: roomEvent, position: 1, expiresAtMs: inAMinute }),
    await admissions.issue({ buyerId: me.buyerId, eventId: roomEvent, position: 1, expiresAtMs: Date.now() - 5_000 }),
    await admissions.issue({ buyerId: other.buyerId, eventId: roomEvent, position: 1, expiresAtMs: inAMinute }),
    await admissions.issue({ buyerId: me.buyerId, eventId: otherEvent, position: 1, expiresAtMs: inAMinute }),
    me.token,
    'x'.repeat(3000),
  ];
  for (const token of tokens) {
    await probe.rejects(
      roomEvent,
      { method: 'POST', path, token: me.token, body: { quantity: 1 }, headers: { 'x-admission-token': token } },
      token.length > 2048 ? 400 : 403,
      token.length > 2048 ? 'VALIDATION_FAILED' : 'NOT_ADMITTED',
    );
  }
  await probe.rejects(roomEvent, { method: 'POST', path, token: me.token, body: { quantity: 1 } }, 403, 'NOT_ADMITTED');

  // A genuine token works once; replayed (after the hold is let go) it is refused.
  const genuine = await admissions.issue({ buyerId: me.buyerId, eventId: roomEvent, position: 1, expiresAtMs: inAMinute });
  const room = apiClient(api.url, me.token).v1.events[':eventId'];
  const holdOne = () =>
    reply(room.hold.$post({ param: { eventId: roomEvent }, json: { quantity: 1 }, header: { 'x-admission-token': genuine } }));
  const held = await holdOne();
  expectOk(held, 201);
  expectOk(await reply(room.hold[':holdId'].$delete({ param: { eventId: roomEvent, holdId: held.body.holdId } })), 200);
  let replay = await holdOne();
  for (let i = 0; errorOf(replay)?.code === 'CHECKOUT_IN_PROGRESS' && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100)); // the released checkout is closing
    replay = await holdOne();
  }
  await probe.rejects(
    roomEvent,
    { method: 'POST', path, token: me.token, body: { quantity: 1 }, headers: { 'x-admission-token': genuine } },
    403,
    'NOT_ADMITTED',
  );
  // The other buyer cannot use it either.
  await probe.rejects(
    roomEvent,
    { method: 'POST', path, token: other.token, body: { quantity: 1 }, headers: { 'x-admission-token': genuine } },
    403,
    'NOT_ADMITTED',
  );
});

test('the Stripe webhook refuses bad signatures and changes nothing', async () => {
  const path = '/v1/webhooks/stripe';
  const payload = JSON.stringify({
    id: 'evt_1',
    type: 'payment_intent.succeeded',
    data: { object: { id: 'pi_123', object: 'payment_intent' } },
  });
  const stripe = Stripe;
  const now = Math.floor(Date.now() / 1000);
  const signatures = [
    undefined,
    '',
    'garbage',
    `t=${now},v1=${'0'.repeat(64)}`,
    stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_notthesecret' }),
    stripe.webhooks.generateTestHeaderString({ payload, secret: config.STRIPE_WEBHOOK_SECRET, timestamp: now - 3600 }),
    stripe.webhooks.generateTestHeaderString({
      payload: payload.replace('succeeded', 'payment_failed'),
      secret: config.STRIPE_WEBHOOK_SECRET,
    }),
  ];
  for (const sig of signatures) {
    await probe.rejects(
      eventId,
      { method: 'POST', path, raw: payload, headers: sig === undefined ? {} : { 'stripe-signature': sig } },
      400,
      'VALIDATION_FAILED',
    );
  }
  await probe.rejects(
    eventId,
    { method: 'POST', path, raw: 'x'.repeat(10_000), headers: { 'stripe-signature': signatures[3]! } },
    413,
    'PAYLOAD_TOO_LARGE',
  );
});
