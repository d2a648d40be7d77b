/**
 * The waiting room's defences against bots through real HTTP, Redis and the
 * admission workflow: proof of work that rises with the line, the identity
 * provider's risk claim, and places per verified person across accounts.
 */
import { SignJWT } from 'jose';
import { seatLimit } from '../../domain/fairness';
import { testConfig } from '../../harness/stack';
import { createBuyerTokens } from '../../services/buyer-tokens';
import { solve } from '../../services/pow';
import { call, createEvent } from '../support/http';
import { useApiAndWorker } from '../support/stack';

jest.setTimeout(120_000);

// This platform's identity provider verifies people, so tokens without verified_id are unverified accounts.
const config = testConfig({ TRUST_PROXY_HOPS: '1', BUYER_TOKEN_VERIFIES_PEOPLE: 'true' });
const stack = useApiAndWorker(config);
const tokens = createBuyerTokens({ mode: 'development', secret: config.BUYER_TOKEN_SECRET, issuer: config.BUYER_TOKEN_ISSUER });

let n = 0;
async function buyer(claims: { verifiedIdentity?: string; risk?: number } = {}) {
  const i = ++n;
  const buyerId = `byr_defence${Date.now().toString(36)}${i}`;
  return {
    buyerId,
    token: await tokens.issue!({ buyerId, name: `Buyer ${i}`, email: `d${i}@buyers.onsale.test`, ...claims }),
    ip: `10.9.${i >> 8}.${i & 255}`,
  };
}
type B = Awaited<ReturnType<typeof buyer>>;

const join = (eventId: string, b: B, body: object = {}) =>
  call(stack.api.url, 'POST', `/v1/events/${eventId}/queue`, { token: b.token, body, headers: { 'x-forwarded-for': b.ip } });
const challenge = (eventId: string, b: B) => call(stack.api.url, 'GET', `/v1/events/${eventId}/queue/challenge`, { token: b.token });
/** The API reads the line's length at most once a second. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1100));

async function roomEvent(waitingRoom: Record<string, unknown>, opensInMs = -1000) {
  return createEvent(stack.api.url, config.ADMIN_TOKEN, {
    onSaleAt: new Date(Date.now() + opensInMs).toISOString(),
    waitingRoom: { enabled: true, maxActiveCheckouts: 1, admitPerMinute: 1, ...waitingRoom },
  });
}

test('proof of work is free while the line is short and rises with it; a cheap challenge cannot be used once it has risen', async () => {
  // Before the on-sale time everyone waits in the pre-queue, so the line is exactly who joined.
  const eventId = await roomEvent({ powDemandQueue: 2, powDemandDifficulty: 6, powMaxDifficulty: 9 }, 3_600_000);
  const solved = async (b: B) => {
    const c = await challenge(eventId, b);
    return join(eventId, b, { pow: { challenge: c.body.challenge, nonce: solve(c.body.challenge, c.body.difficulty) } });
  };
  const late = await buyer();
  const cheap = await challenge(eventId, late);
  expect(cheap.body.difficulty).toBe(0);
  for (let i = 0; i < 3; i++) expect((await join(eventId, await buyer())).status).toBe(201);
  // No pause: the API counts the places it handed out since it last read the line, so a burst inside one second pays too.

  // Three in line, more than 2: 6 bits, and the 0-bit challenge from before the rise is refused.
  const stale = await join(eventId, late, { pow: { challenge: cheap.body.challenge, nonce: '0' } });
  expect(stale.status).toBe(403);
  expect(stale.body.error).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'proof_of_work', difficulty: 6 } });
  const d = stale.body.error.details;
  // A challenge names its difficulty under the MAC: claiming fewer bits is refused.
  const forged = String(d.challenge).replace(/^(\d+)\.\d+\./, '$1.0.');
  expect((await join(eventId, late, { pow: { challenge: forged, nonce: '0' } })).status).toBe(403);
  // Solving the challenge the refusal sent gets the place.
  expect((await join(eventId, late, { pow: { challenge: d.challenge, nonce: solve(d.challenge, d.difficulty) } })).status).toBe(201);

  // Each doubling of the line adds a bit: 15 in line is 2 doublings past 2 ...
  for (let i = 0; i < 11; i++) expect((await solved(await buyer())).status).toBe(201);
  await nextSecond();
  expect((await challenge(eventId, await buyer())).body.difficulty).toBe(8);
  // ... and the rise stops at the cap.
  for (let i = 0; i < 25; i++) expect((await solved(await buyer())).status).toBe(201);
  await nextSecond();
  expect((await challenge(eventId, await buyer())).body.difficulty).toBe(9);
});

test("the identity provider's risk claim: risky accounts pay more proof of work, the riskiest get no place", async () => {
  const eventId = await roomEvent({ powDemandQueue: 1000 });
  const trusted = await buyer({ risk: 0.1 });
  expect((await join(eventId, trusted)).status).toBe(201);

  const risky = await buyer({ risk: 0.7 });
  const asked = await join(eventId, risky);
  expect(asked.status).toBe(403);
  expect(asked.body.error.details).toMatchObject({ reason: 'proof_of_work', difficulty: 4 });
  const d = asked.body.error.details;
  expect((await join(eventId, risky, { pow: { challenge: d.challenge, nonce: solve(d.challenge, d.difficulty) } })).status).toBe(201);

  const bot = await buyer({ risk: 0.95 });
  const refused = await join(eventId, bot);
  expect(refused.status).toBe(403);
  expect(refused.body.error).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'risk' } });
  expect((await challenge(eventId, bot)).status).toBe(403);

  // The organiser tunes the thresholds per event; bad values change nothing.
  const admin = { token: config.ADMIN_TOKEN };
  expect(
    (await call(stack.api.url, 'POST', `/v1/admin/events/${eventId}/waiting-room`, { ...admin, body: { riskRefuseAbove: 1.5 } })).status,
  ).toBe(400);
  expect((await join(eventId, bot)).body.error.details.reason).toBe('risk');
  // A threshold is kept to three decimals, so a value the database's real type would underflow is stored as 0.
  const tiny = await call(stack.api.url, 'POST', `/v1/admin/events/${eventId}/waiting-room`, {
    ...admin,
    body: { riskExtraPowAbove: 3.5e-291 },
  });
  expect(tiny.status).toBe(200);
  expect(
    (await call(stack.api.url, 'POST', `/v1/admin/events/${eventId}/waiting-room`, { ...admin, body: { riskRefuseAbove: 1 } })).status,
  ).toBe(200);
  await nextSecond();
  expect((await join(eventId, bot)).body.error.details.reason).toBe('proof_of_work');
});

test('unverified and risky accounts may take unverifiedSeatLimit seats (2 by default), at once or over several orders', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN); // 6 seats per buyer, no waiting room
  const hold = (b: B, quantity: number) =>
    call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token: b.token, body: { quantity } });
  const waitlist = (b: B, quantity: number) =>
    call(stack.api.url, 'POST', `/v1/events/${eventId}/waitlist`, { token: b.token, body: { quantity } });

  // This platform's identity provider verifies people (BUYER_TOKEN_VERIFIES_PEOPLE): an account without verified_id is unverified.
  const unverified = await buyer();
  const refused = await hold(unverified, 3);
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({
    code: 'LIMIT_EXCEEDED',
    details: { maxSeatsPerBuyer: 2, requested: 3, reason: 'unverified' },
  });
  // The event says six, so the buyer is told why, and what verifying would give.
  expect(refused.body.error.message).toBe(
    'an account without a verified identity may take at most 2 seats for this event (6 once verified)',
  );
  expect((await waitlist(unverified, 3)).body.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { maxSeatsPerBuyer: 2 } });
  const held = await hold(unverified, 2);
  expect(held.status).toBe(201);
  expect(held.body.seatIds).toHaveLength(2);
  const risky = await hold(await buyer({ verifiedIdentity: 'idv_seats_1', risk: 0.7 }), 4);
  expect(risky.body.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { maxSeatsPerBuyer: 2, reason: 'risk' } });

  // A verified person keeps the event's six; the waitlist turns them away only because seats remain.
  const person = await buyer({ verifiedIdentity: 'idv_seats_2', risk: 0.5 });
  expect((await hold(person, 6)).status).toBe(201);
  expect((await waitlist(person, 6)).body.error.code).toBe('NOT_SOLD_OUT');

  // The organiser sets it per event: one seat; bad values are refused and change nothing.
  const admin = (body: object) =>
    call(stack.api.url, 'POST', `/v1/admin/events/${eventId}/waiting-room`, { token: config.ADMIN_TOKEN, body });
  expect((await admin({ unverifiedSeatLimit: 0 })).status).toBe(400);
  expect((await admin({ unverifiedSeatLimit: 2.5 })).status).toBe(400);
  expect((await hold(await buyer(), 2)).status).toBe(201);
  expect((await admin({ unverifiedSeatLimit: 1 })).status).toBe(200);
  const one = await hold(await buyer(), 2);
  expect(one.body.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { maxSeatsPerBuyer: 1, reason: 'unverified' } });
});

test('the seat allowance: unverified accounts only where the provider verifies people, risky ones everywhere', () => {
  const s = { riskExtraPowAbove: 0.5, unverifiedSeatLimit: 2 };
  expect(seatLimit(6, s, {}, false)).toEqual({ allowance: 6, reason: null });
  expect(seatLimit(6, s, { risk: 0.5 }, false)).toEqual({ allowance: 6, reason: null });
  expect(seatLimit(6, s, { risk: 0.51 }, false)).toEqual({ allowance: 2, reason: 'risk' });
  expect(seatLimit(6, s, {}, true)).toEqual({ allowance: 2, reason: 'unverified' });
  expect(seatLimit(6, s, { verifiedIdentity: 'idv_x', risk: 0.2 }, true)).toEqual({ allowance: 6, reason: null });
  // The event's own limit stays when it is the smaller.
  expect(seatLimit(1, s, {}, true)).toEqual({ allowance: 1, reason: null });
});

test('risky accounts that came early wait behind every other early arrival, whatever the shuffle', async () => {
  const eventId = await roomEvent({ powDemandQueue: 1000 }, 2500);
  const risky = await buyer({ risk: 0.7 });
  const first = await join(eventId, risky);
  const d = first.body.error.details;
  expect((await join(eventId, risky, { pow: { challenge: d.challenge, nonce: solve(d.challenge, d.difficulty) } })).status).toBe(201);
  const trusted = [await buyer({ risk: 0.1 }), await buyer(), await buyer({ risk: 0.5 })];
  for (const b of trusted) expect((await join(eventId, b)).status).toBe(201);
  const me = (b: B) => call(stack.api.url, 'GET', `/v1/events/${eventId}/queue/me`, { token: b.token });
  expect((await me(risky)).body.status).toBe('prequeue');
  await new Promise((r) => setTimeout(r, 3000));
  expect((await join(eventId, await buyer())).status).toBe(201); // after the opening: seals the pre-queue if nothing has yet
  const positions = await Promise.all(trusted.map(async (b) => (await me(b)).body.position as number));
  expect(positions.sort()).toEqual([1, 2, 3]);
  expect((await me(risky)).body.position).toBe(4);
});

test('verified people who came early are shuffled ahead of unverified accounts; later arrivals keep arrival order', async () => {
  const opensAt = Date.now() + 4000;
  const eventId = await roomEvent({ powDemandQueue: 1000 }, opensAt - Date.now());
  const me = (b: B) => call(stack.api.url, 'GET', `/v1/events/${eventId}/queue/me`, { token: b.token });
  const unverified = [await buyer(), await buyer({ risk: 0.2 })];
  const verified = [await buyer({ verifiedIdentity: 'idv_first_1' }), await buyer({ verifiedIdentity: 'idv_first_2', risk: 0.1 })];
  const riskyVerified = await buyer({ verifiedIdentity: 'idv_first_3', risk: 0.7 });
  // Unverified first, so arrival order cannot explain the result.
  for (const b of unverified) expect((await join(eventId, b)).status).toBe(201);
  const d = (await join(eventId, riskyVerified)).body.error.details;
  expect((await join(eventId, riskyVerified, { pow: { challenge: d.challenge, nonce: solve(d.challenge, d.difficulty) } })).status).toBe(
    201,
  );
  for (const b of verified) expect((await join(eventId, b)).status).toBe(201);
  await new Promise((r) => setTimeout(r, Math.max(0, opensAt - Date.now()) + 200));
  // After the opening: an unverified account, then a verified person, in that order.
  const lateUnverified = await buyer();
  const lateVerified = await buyer({ verifiedIdentity: 'idv_first_4' });
  expect((await join(eventId, lateUnverified)).status).toBe(201);
  expect((await join(eventId, lateVerified)).status).toBe(201);
  const position = async (b: B) => (await me(b)).body.position as number;
  expect((await Promise.all(verified.map(position))).sort()).toEqual([1, 2]);
  expect((await Promise.all(unverified.map(position))).sort()).toEqual([3, 4]);
  expect(await position(riskyVerified)).toBe(5);
  expect([await position(lateUnverified), await position(lateVerified)]).toEqual([6, 7]);
});

test('with verifiedFirst off, early verified and unverified arrivals are shuffled together', async () => {
  const opensAt = Date.now() + 4000;
  const eventId = await roomEvent({ powDemandQueue: 1000, verifiedFirst: false }, opensAt - Date.now());
  const me = (b: B) => call(stack.api.url, 'GET', `/v1/events/${eventId}/queue/me`, { token: b.token });
  const verified = await Promise.all(Array.from({ length: 8 }, (_, i) => buyer({ verifiedIdentity: `idv_mixed_${i}` })));
  const unverified = await Promise.all(Array.from({ length: 8 }, () => buyer()));
  for (const b of [...verified, ...unverified]) expect((await join(eventId, b)).status).toBe(201);
  await new Promise((r) => setTimeout(r, Math.max(0, opensAt - Date.now()) + 200));
  expect((await join(eventId, await buyer())).status).toBe(201); // seals the pre-queue
  const positions = await Promise.all(verified.map(async (b) => (await me(b)).body.position as number));
  // All eight verified in the first eight places by chance: 1 in 12,870.
  expect(Math.max(...positions)).toBeGreaterThan(8);
});

test('one verified person holds one place across accounts; an event may require a verified person', async () => {
  const eventId = await roomEvent({ powDemandQueue: 1000 });
  const [first, second] = [await buyer({ verifiedIdentity: 'idv_person_1' }), await buyer({ verifiedIdentity: 'idv_person_1' })];
  expect((await join(eventId, first)).status).toBe(201);
  expect((await join(eventId, first)).status).toBe(200); // the same place again
  const again = await join(eventId, second);
  expect(again.status).toBe(422);
  expect(again.body.error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { reason: 'places_per_identity', maxPlacesPerIdentity: 1 } });
  expect((await join(eventId, await buyer({ verifiedIdentity: 'idv_person_2' }))).status).toBe(201);
  expect((await join(eventId, await buyer())).status).toBe(201); // unverified accounts are allowed by default

  const strict = await roomEvent({ powDemandQueue: 1000, requireVerifiedIdentity: true });
  const anonymous = await join(strict, await buyer());
  expect(anonymous.status).toBe(403);
  expect(anonymous.body.error.details.reason).toBe('identity_required');
  expect((await join(strict, await buyer({ verifiedIdentity: 'idv_person_3' }))).status).toBe(201);
});

test('the dev issuer signs the identity claims it is given, and a token with a malformed risk reads as the riskiest', async () => {
  const key = new TextEncoder().encode(config.BUYER_TOKEN_SECRET);
  const malformed = await new SignJWT({ risk: 'low' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('byr_malformedrisk')
    .setIssuer(config.BUYER_TOKEN_ISSUER)
    .setAudience('onsale-api')
    .setExpirationTime('1h')
    .sign(key);
  expect((await tokens.verify(malformed))?.risk).toBe(1);
  const made = await call(stack.api.url, 'POST', '/v1/dev/buyers', { body: { name: 'Farm', risk: 0.8, verifiedIdentity: 'idv_x_1' } });
  expect(made.status).toBe(201);
  expect(await tokens.verify(made.body.token)).toMatchObject({ risk: 0.8, verifiedIdentity: 'idv_x_1' });
  expect((await call(stack.api.url, 'POST', '/v1/dev/buyers', { body: { risk: 2 } })).status).toBe(400);
});
