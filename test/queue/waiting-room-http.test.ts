/**
 * The waiting room through real HTTP with a real admission workflow on the
 * Temporal dev server: thousands of concurrent joins, admission in position
 * order, and admission tokens that cannot be forged, reused or shared.
 */
import { stateFingerprint } from '../../db/audit';
import { AdmissionTokens } from '../../services/admission-tokens';
import { createBuyerTokens } from '../../services/buyer-tokens';
import { testConfig } from '../../harness/stack';
import { apiClient, createEvent, errorOf, expectError, expectOk, okBody, reply, call } from '../support/http';
import { useApiAndWorker } from '../support/stack';

jest.setTimeout(240_000);

const config = testConfig({ TRUST_PROXY_HOPS: '1' });
const stack = useApiAndWorker(config);
const tokens = createBuyerTokens({ mode: 'development', secret: config.BUYER_TOKEN_SECRET, issuer: config.BUYER_TOKEN_ISSUER });

let counter = 0;
async function buyer() {
  const n = ++counter;
  const buyerId = `byr_load${String(n).padStart(8, '0')}`;
  const token = await tokens.issue!({ buyerId, name: `Buyer ${n}`, email: `load${n}@buyers.onsale.test` });
  // Each simulated buyer comes from its own address, as seen by the trusted proxy.
  return { buyerId, token, ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` };
}
type Buyer = Awaited<ReturnType<typeof buyer>>;

/** The event's routes as this buyer, from this buyer's address as the trusted proxy names it. */
const asBuyer = (b: { token: string }) => apiClient(stack.api.url, b.token).v1.events[':eventId'];
const from = (b: { ip: string }) => ({ headers: { 'x-forwarded-for': b.ip } });

/** Joins like a well-behaved client: a shed request (503) is retried after its Retry-After. */
async function join(eventId: string, b: Buyer) {
  for (let attempt = 0; ; attempt++) {
    const r = await reply(asBuyer(b).queue.$post({ param: { eventId }, json: {} }, from(b)));
    if (r.status !== 503 || attempt === 20) return r;
    await new Promise((resolve) => setTimeout(resolve, Number(r.headers.get('retry-after') ?? 1) * 1000));
  }
}
const me = (eventId: string, b: Buyer) => reply(asBuyer(b).queue.me.$get({ param: { eventId } }, from(b)));

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('5,000 concurrent joins: one unique, contiguous place per buyer; admission in position order', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    // A load test of the line itself: proof of work (test/queue/bot-defences.test.ts) would only slow it.
    waitingRoom: { enabled: true, maxActiveCheckouts: 100, admitPerMinute: 60_000, powDemandDifficulty: 0 },
    sections: [{ id: 'A', name: 'A', rows: 10, seatsPerRow: 100, priceCents: 5000 }],
  });
  const buyers = await Promise.all(Array.from({ length: 5000 }, buyer));
  const started = Date.now();
  const joined = await Promise.all(buyers.map((b) => join(eventId, b)));
  const seconds = (Date.now() - started) / 1000;
  console.log(`waiting room: 5000 concurrent joins in ${seconds.toFixed(2)} s (${(5000 / seconds).toFixed(0)} joins/s)`);
  expect(joined.map((r) => r.status)).toEqual(buyers.map(() => 201));
  const positions = joined.map((r) => okBody(r).position);
  expect([...positions].sort((a, b) => a - b)).toEqual(buyers.map((_, i) => i + 1));

  // Joining again returns the same place.
  const again = await Promise.all(buyers.slice(0, 200).map((b) => join(eventId, b)));
  expect(again.map((r) => r.status)).toEqual(again.map(() => 200));
  expect(again.map((r) => okBody(r).position)).toEqual(positions.slice(0, 200));

  // The admission workflow admits up to maxActiveCheckouts, in position order.
  const progress = await waitFor(
    () => reply(apiClient(stack.api.url).v1.events[':eventId'].queue.progress.$get({ param: { eventId } })),
    (r) => r.ok && r.body.servingPosition >= 100,
  );
  expectOk(progress, 200);
  expect(progress.headers.get('cache-control')).toBe('public, max-age=1');
  expect(progress.body).toMatchObject({ servingPosition: 100, queueLength: 5000, status: 'open' });
  const byPosition = buyers.map((b, i) => ({ b, position: positions[i]! })).sort((x, y) => x.position - y.position);
  for (const { b, position } of byPosition.slice(0, 130)) {
    const s = await me(eventId, b);
    expectOk(s, 200);
    expect(s.body.position).toBe(position);
    expect(s.body.servingPosition).toBe(100);
    if (position <= 100) {
      expect(s.body.status).toBe('admitted');
      expect(typeof s.body.admissionToken).toBe('string');
    } else {
      expect(s.body.status).toBe('waiting');
      expect(s.body.ahead).toBe(position - 101);
      expect(s.body.admissionToken).toBeUndefined();
    }
  }
});

test("forged, expired, replayed and other buyers' admission tokens get 403 NOT_ADMITTED and change nothing", async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60_000 },
  });
  const alice = await buyer();
  const bob = await buyer();
  await join(eventId, alice);
  await join(eventId, bob);
  const admitted = await waitFor(
    () => me(eventId, alice),
    (r) => r.ok && r.body.status === 'admitted',
  );
  expectOk(admitted, 200);
  const token = admitted.body.admissionToken!;
  expect(token).toBeTruthy();

  const hold = (b: Buyer, admission?: string) =>
    reply(
      asBuyer(b).hold.$post(
        { param: { eventId }, json: { seatIds: ['A-1-1'] }, header: admission ? { 'x-admission-token': admission } : {} },
        from(b),
      ),
    );
  const rejected = async (b: Buyer, admission?: string) => {
    const before = await stateFingerprint(stack.api.deps.pool, eventId);
    expectError(await hold(b, admission), 403, 'NOT_ADMITTED');
    expect(await stateFingerprint(stack.api.deps.pool, eventId)).toBe(before);
  };

  await rejected(alice);
  const [h, p, s] = token.split('.');
  await rejected(alice, `${h}.${p}.${s!.slice(0, -4)}AAAA`); // forged signature
  const tampered = Buffer.from(p!, 'base64url').toString().replace(alice.buyerId, bob.buyerId);
  await rejected(bob, `${h}.${Buffer.from(tampered).toString('base64url')}.${s}`); // payload edited
  await rejected(bob, token); // someone else's token
  const admissions = new AdmissionTokens(config.ADMISSION_TOKEN_SECRET, stack.api.deps.redis);
  const expired = await admissions.issue({ buyerId: alice.buyerId, eventId, position: 1, expiresAtMs: Date.now() - 5_000 });
  await rejected(alice, expired);
  const otherEvent = await admissions.issue({
    buyerId: alice.buyerId,
    eventId: 'evt_someotherevent00',
    position: 1,
    expiresAtMs: Date.now() + 60_000,
  });
  await rejected(alice, otherEvent);

  const first = await hold(alice, token);
  expectOk(first, 201);
  expectOk(await reply(asBuyer(alice).hold[':holdId'].$delete({ param: { eventId, holdId: first.body.holdId } })), 200);
  await rejected(alice, token); // replayed: single use
  const after = await me(eventId, alice);
  expectOk(after, 200);
  expect(after.body.status).toBe('admitted');
  expect(after.body.admissionToken).toBeUndefined();
});

test('1,000 new buyers from one shared address all get a place with the default limits', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    // The default address limits; proof of work, which a real crowd would pay as the line grows, is tested on its own.
    waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60, powDemandDifficulty: 0 },
  });
  const event = await call(stack.api.url, 'GET', `/v1/events/${eventId}`);
  const wr = event.body.waitingRoom;
  // The defaults are per window: at least 1,000 joins from one address in any 10 s, and as many places.
  expect((wr.joinLimitPerIp * 10) / wr.rateWindowSeconds).toBeGreaterThanOrEqual(1000);
  expect(wr.maxPlacesPerIp).toBeGreaterThanOrEqual(1000);

  const campus = '100.64.7.7'; // one carrier-grade NAT address for everyone
  const buyers = await Promise.all(Array.from({ length: 1000 }, async () => ({ ...(await buyer()), ip: campus })));
  const joined = await Promise.all(buyers.map((b) => join(eventId, b)));
  expect(joined.filter((r) => r.status !== 201).map((r) => [r.status, errorOf(r)?.code])).toEqual([]);
  expect(new Set(joined.map((r) => okBody(r).position)).size).toBe(1000);
  // Reloading the page (joining again) does not spend the address's budget.
  const again = await Promise.all(buyers.slice(0, 100).map((b) => join(eventId, b)));
  expect(again.map((r) => r.status)).toEqual(again.map(() => 200));
});

test('join and status limits and the place cap are per event, set through the admin API', async () => {
  const admin = { token: config.ADMIN_TOKEN };
  const created = await call(stack.api.url, 'POST', '/v1/admin/events', {
    ...admin,
    body: {
      name: 'Limits',
      waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60, maxPlacesPerIp: 3, joinLimitPerBuyer: 7 },
      sections: [{ id: 'A', name: 'A', rows: 1, seatsPerRow: 10, priceCents: 100 }],
    },
  });
  expect(created.status).toBe(201);
  const eventId = created.body.eventId as string;
  await call(stack.api.url, 'POST', `/v1/admin/events/${eventId}/open`, admin);
  expect((await call(stack.api.url, 'GET', `/v1/events/${eventId}`)).body.waitingRoom).toMatchObject({
    maxPlacesPerIp: 3,
    joinLimitPerBuyer: 7,
    joinLimitPerIp: 3000,
    rateWindowSeconds: 10,
  });

  // The place cap: a fourth buyer from the same address gets no place.
  const home = await Promise.all(Array.from({ length: 4 }, async () => ({ ...(await buyer()), ip: '192.0.2.10' })));
  const placed = [];
  for (const b of home) placed.push(await join(eventId, b));
  expect(placed.map((r) => r.status)).toEqual([201, 201, 201, 429]);
  expect(errorOf(placed[3]!)?.details.reason).toBe('places_per_ip');

  // Bad limits change nothing.
  for (const bad of [{ joinLimitPerIp: 0 }, { rateWindowSeconds: 'ten' }, { statusLimitPerBuyer: 1.5 }, { nope: 1 }, {}]) {
    const r = await call(stack.api.url, 'POST', `/v1/admin/events/${eventId}/waiting-room`, { ...admin, body: bad });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  }
  const missing = await call(stack.api.url, 'POST', '/v1/admin/events/evt_doesnotexist000/waiting-room', {
    ...admin,
    body: { joinLimitPerIp: 5 },
  });
  expect(missing.status).toBe(404);

  // Tight limits in a long window, so the test cannot race a window boundary.
  const set = await call(stack.api.url, 'POST', `/v1/admin/events/${eventId}/waiting-room`, {
    ...admin,
    body: { rateWindowSeconds: 600, joinLimitPerIp: 2, joinLimitPerBuyer: 3, statusLimitPerBuyer: 2, maxPlacesPerIp: 100 },
  });
  expect(set.status).toBe(200);
  await new Promise((r) => setTimeout(r, 1100)); // the API's event cache lives a second

  const office = await Promise.all(Array.from({ length: 3 }, async () => ({ ...(await buyer()), ip: '192.0.2.20' })));
  const first = await join(eventId, office[0]!);
  const second = await join(eventId, office[1]!);
  const third = await join(eventId, office[2]!);
  expect([first.status, second.status, third.status]).toEqual([201, 201, 429]);
  expect(errorOf(third)?.details).toMatchObject({ scope: 'join-ip', limit: 2, windowSeconds: 600 });
  expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(500);
  // A buyer who already has a place gets it back; the per-buyer limit stops one identity hammering.
  const rejoins = [];
  for (let i = 0; i < 3; i++) rejoins.push(await join(eventId, office[0]!));
  expect(rejoins.map((r) => r.status)).toEqual([200, 200, 429]);
  expect(errorOf(rejoins[2]!)?.details.scope).toBe('join-buyer');
  // Status polls: two per window for this event.
  const polls = [];
  for (let i = 0; i < 3; i++) polls.push(await me(eventId, office[1]!));
  expect(polls.map((r) => r.status)).toEqual([200, 200, 429]);
  expect(errorOf(polls[2]!)?.details.scope).toBe('queue-me');
  expect(polls[0]!.body).toMatchObject({ position: okBody(second).position, status: expect.any(String) });
  // Another event keeps its own, default limits.
  const other = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60 },
  });
  expect((await join(other, office[2]!)).status).toBe(201);
});
