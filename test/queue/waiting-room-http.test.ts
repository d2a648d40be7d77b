/**
 * The waiting room through real HTTP with a real admission workflow on the
 * Temporal dev server: thousands of concurrent joins, admission in position
 * order, and admission tokens that cannot be forged, reused or shared.
 */
import { stateFingerprint } from '../../db/audit';
import { AdmissionTokens } from '../../services/admission-tokens';
import { createBuyerTokens } from '../../services/buyer-tokens';
import { call, createEvent } from '../support/http';
import { type RunningApi, type RunningWorker, startApi, startWorker, testConfig } from '../../harness/stack';

jest.setTimeout(240_000);

const config = testConfig({ TRUST_PROXY_HOPS: '1' });
let api: RunningApi;
let worker: RunningWorker;
const tokens = createBuyerTokens({ mode: 'development', secret: config.BUYER_TOKEN_SECRET, issuer: config.BUYER_TOKEN_ISSUER });

beforeAll(async () => {
  api = await startApi(config);
  worker = await startWorker(config);
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
});

let counter = 0;
async function buyer() {
  const n = ++counter;
  const buyerId = `byr_load${String(n).padStart(8, '0')}`;
  const token = await tokens.issue!({ buyerId, name: `Buyer ${n}`, email: `load${n}@buyers.onsale.test` });
  // Each simulated buyer comes from its own address, as seen by the trusted proxy.
  return { buyerId, token, ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` };
}

/** Joins like a well-behaved client: a shed request (503) is retried after its Retry-After. */
async function join(eventId: string, b: { token: string; ip: string }) {
  for (let attempt = 0; ; attempt++) {
    const r = await call(api.url, 'POST', `/v1/events/${eventId}/queue`, { token: b.token, headers: { 'x-forwarded-for': b.ip } });
    if (r.status !== 503 || attempt === 20) return r;
    await new Promise((resolve) => setTimeout(resolve, Number(r.headers.get('retry-after') ?? 1) * 1000));
  }
}
const me = (eventId: string, b: { token: string; ip: string }) =>
  call(api.url, 'GET', `/v1/events/${eventId}/queue/me`, { token: b.token, headers: { 'x-forwarded-for': b.ip } });

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('5,000 concurrent joins: one unique, contiguous place per buyer; admission in position order', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, {
    waitingRoom: { enabled: true, maxActiveCheckouts: 100, admitPerMinute: 60_000 },
    sections: [{ id: 'A', name: 'A', rows: 10, seatsPerRow: 100, priceCents: 5000 }],
  });
  const buyers = await Promise.all(Array.from({ length: 5000 }, buyer));
  const started = Date.now();
  const joined = await Promise.all(buyers.map((b) => join(eventId, b)));
  const seconds = (Date.now() - started) / 1000;
  console.log(`waiting room: 5000 concurrent joins in ${seconds.toFixed(2)} s (${(5000 / seconds).toFixed(0)} joins/s)`);
  expect(joined.map((r) => r.status)).toEqual(buyers.map(() => 201));
  const positions = joined.map((r) => r.body.position as number);
  expect([...positions].sort((a, b) => a - b)).toEqual(buyers.map((_, i) => i + 1));

  // Joining again returns the same place.
  const again = await Promise.all(buyers.slice(0, 200).map((b) => join(eventId, b)));
  expect(again.map((r) => r.status)).toEqual(again.map(() => 200));
  expect(again.map((r) => r.body.position)).toEqual(positions.slice(0, 200));

  // The admission workflow admits up to maxActiveCheckouts, in position order.
  const progress = await waitFor(
    () => call(api.url, 'GET', `/v1/events/${eventId}/queue/progress`),
    (r) => r.body.servingPosition >= 100,
  );
  expect(progress.headers.get('cache-control')).toBe('public, max-age=1');
  expect(progress.body).toMatchObject({ servingPosition: 100, queueLength: 5000, status: 'open' });
  const byPosition = buyers.map((b, i) => ({ b, position: positions[i]! })).sort((x, y) => x.position - y.position);
  for (const { b, position } of byPosition.slice(0, 130)) {
    const s = await me(eventId, b);
    expect(s.status).toBe(200);
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
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, {
    waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60_000 },
  });
  const alice = await buyer();
  const bob = await buyer();
  await join(eventId, alice);
  await join(eventId, bob);
  const admitted = await waitFor(
    () => me(eventId, alice),
    (r) => r.body.status === 'admitted',
  );
  const token = admitted.body.admissionToken as string;
  expect(token).toBeTruthy();

  const hold = (b: { token: string; ip: string }, admission?: string) =>
    call(api.url, 'POST', `/v1/events/${eventId}/hold`, {
      token: b.token,
      body: { seatIds: ['A-1-1'] },
      headers: { 'x-forwarded-for': b.ip, ...(admission && { 'x-admission-token': admission }) },
    });
  const rejected = async (b: { token: string; ip: string }, admission?: string) => {
    const before = await stateFingerprint(api.deps.pool, eventId);
    const r = await hold(b, admission);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 403, code: 'NOT_ADMITTED' });
    expect(await stateFingerprint(api.deps.pool, eventId)).toBe(before);
  };

  await rejected(alice);
  const [h, p, s] = token.split('.');
  await rejected(alice, `${h}.${p}.${s!.slice(0, -4)}AAAA`); // forged signature
  const tampered = Buffer.from(p!, 'base64url').toString().replace(alice.buyerId, bob.buyerId);
  await rejected(bob, `${h}.${Buffer.from(tampered).toString('base64url')}.${s}`); // payload edited
  await rejected(bob, token); // someone else's token
  const admissions = new AdmissionTokens(config.ADMISSION_TOKEN_SECRET, api.deps.redis);
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
  expect(first.status).toBe(201);
  const released = await call(api.url, 'DELETE', `/v1/events/${eventId}/hold/${first.body.holdId}`, { token: alice.token });
  expect(released.status).toBe(200);
  await rejected(alice, token); // replayed: single use
  const after = await me(eventId, alice);
  expect(after.body.status).toBe('admitted');
  expect(after.body.admissionToken).toBeUndefined();
});
