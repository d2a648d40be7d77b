/**
 * Hostile use of real checkouts: another buyer's hold, a purchase after the
 * window, double and concurrent duplicate purchases and holds. Whatever the
 * interleaving: one charge per hold, one order, nothing sold twice.
 */
import { auditEvents } from '../../scripts/faults/audit';
import { apiClient, createEvent, errorOf, expectOk, newBuyer, okBody, reply, request, orderIdOf } from '../support/http';
import { type RunningApi, type RunningWorker, startApi, startWorker, testConfig } from '../../harness/stack';
import { Prober } from './probe';

jest.setTimeout(180_000);

const config = testConfig();
let api: RunningApi;
let worker: RunningWorker;
let probe: Prober;
const events: string[] = [];

beforeAll(async () => {
  api = await startApi(config);
  worker = await startWorker(config);
  probe = new Prober(() => api.url, api.deps.pool);
});

afterAll(async () => {
  probe?.report('flows');
  if (api && events.length) {
    const audit = await auditEvents(api.deps.pool, events, 60);
    process.stdout.write(`audit of the hostile flows' events: ${JSON.stringify(audit.violations)}\n`);
  }
  await worker?.stop();
  await api?.stop();
});

async function event(o: Parameters<typeof createEvent>[2] = {}) {
  const id = await createEvent(api.url, config.ADMIN_TOKEN, o);
  events.push(id);
  return id;
}

const hold = (token: string, eventId: string, json: { seatIds: string[] } | { quantity: number }) =>
  reply(apiClient(api.url, token).v1.events[':eventId'].hold.$post({ param: { eventId }, json, header: {} }));
const purchase = (token: string, eventId: string, json: { holdId: string; paymentMethod: string }) =>
  reply(apiClient(api.url, token).v1.events[':eventId'].purchase.$post({ param: { eventId }, json }));

const paymentsOf = async (holdId: string) =>
  (await api.deps.pool.query<{ status: string }>('SELECT status FROM payments WHERE hold_id = $1', [holdId])).rows.map((r) => r.status);

test('a purchase after the hold window ends is refused, and the seats are back on sale', async () => {
  const eventId = await event({ holdSeconds: 30 });
  const b = await newBuyer(api.url);
  const held = await hold(b.token, eventId, { seatIds: ['A-1-1'] });
  expectOk(held, 201);
  const path = `/v1/events/${eventId}/purchase`;
  // The hold ends 30 s after it started; the database's own expiry adds its grace on top.
  let status = '';
  for (let i = 0; i < 120 && status !== 'available'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    status = (await api.deps.pool.query('SELECT status FROM seats WHERE event_id = $1 AND seat_id = $2', [eventId, 'A-1-1'])).rows[0]
      .status;
  }
  expect(status).toBe('available');
  await probe.rejects(
    eventId,
    { method: 'POST', path, token: b.token, body: { holdId: held.body.holdId, paymentMethod: 'pm_card_visa' } },
    410,
    'HOLD_EXPIRED',
  );
  await probe.rejects(
    eventId,
    { method: 'DELETE', path: `/v1/events/${eventId}/hold/${held.body.holdId}`, token: b.token },
    410,
    'HOLD_EXPIRED',
  );
  expect(await paymentsOf(held.body.holdId)).toEqual([]);
});

test("another buyer cannot buy, release or see someone's hold or order", async () => {
  const eventId = await event();
  const owner = await newBuyer(api.url);
  const thief = await newBuyer(api.url);
  const held = await hold(owner.token, eventId, { seatIds: ['A-2-1', 'A-2-2'] });
  expectOk(held, 201);
  const { holdId } = held.body;
  await probe.rejects(
    eventId,
    { method: 'POST', path: `/v1/events/${eventId}/purchase`, token: thief.token, body: { holdId, paymentMethod: 'pm_card_visa' } },
    404,
    'HOLD_NOT_FOUND',
  );
  await probe.rejects(
    eventId,
    { method: 'DELETE', path: `/v1/events/${eventId}/hold/${holdId}`, token: thief.token },
    404,
    'HOLD_NOT_FOUND',
  );
  await probe.rejects(
    eventId,
    { method: 'POST', path: `/v1/events/${eventId}/hold`, token: thief.token, body: { seatIds: ['A-2-2'] } },
    409,
    'SEATS_UNAVAILABLE',
  );
  const paid = await purchase(owner.token, eventId, { holdId, paymentMethod: 'pm_card_visa' });
  expectOk(paid, 200);
  await probe.rejects(eventId, { method: 'GET', path: `/v1/orders/${orderIdOf(paid)}`, token: thief.token }, 404, 'NOT_FOUND');
  await probe.rejects(
    eventId,
    { method: 'POST', path: `/v1/events/${eventId}/purchase`, token: thief.token, body: { holdId, paymentMethod: 'pm_card_visa' } },
    404,
    'HOLD_NOT_FOUND',
  );
  expect((await request(api.url, 'GET', `/v1/orders/${orderIdOf(paid)}`, { token: owner.token })).status).toBe(200);
  expect((await request(api.url, 'GET', `/v1/orders/${orderIdOf(paid)}`, { token: config.ADMIN_TOKEN })).status).toBe(200);
});

test('a repeated purchase returns the same order and charges nothing more', async () => {
  const eventId = await event();
  const b = await newBuyer(api.url);
  const held = okBody(await hold(b.token, eventId, { quantity: 2 }));
  const body = { holdId: held.holdId, paymentMethod: 'pm_card_visa' };
  const first = await purchase(b.token, eventId, body);
  expectOk(first, 200);
  for (let i = 0; i < 3; i++) {
    const again = await purchase(b.token, eventId, body);
    probe.tried++;
    expectOk(again, 200);
    expect(orderIdOf(again)).toBe(orderIdOf(first));
  }
  expect(await paymentsOf(held.holdId)).toEqual(['succeeded']);
});

test('concurrent duplicate purchases of one hold: one charge, one order', async () => {
  const eventId = await event();
  const b = await newBuyer(api.url);
  const held = okBody(await hold(b.token, eventId, { quantity: 3 }));
  const body = { holdId: held.holdId, paymentMethod: 'pm_card_visa' };
  const replies = await Promise.all(Array.from({ length: 8 }, () => purchase(b.token, eventId, body)));
  probe.tried += replies.length;
  const ok = replies.filter((r) => r.status === 200);
  const busy = replies.filter((r) => r.status === 409);
  expect(ok.length + busy.length).toBe(8);
  expect(ok.length).toBeGreaterThanOrEqual(1);
  for (const r of busy) expect(errorOf(r)?.code).toBe('CHECKOUT_IN_PROGRESS');
  expect(new Set(ok.map((r) => orderIdOf(r))).size).toBe(1);
  expect(await paymentsOf(held.holdId)).toEqual(['succeeded']);
  const { rows } = await api.deps.pool.query('SELECT count(*)::int AS n FROM orders WHERE hold_id = $1', [held.holdId]);
  expect(rows[0].n).toBe(1);
});

test('concurrent duplicate holds: the buyer gets one hold; racing buyers never share a seat', async () => {
  const eventId = await event();
  const b = await newBuyer(api.url);
  const replies = await Promise.all(Array.from({ length: 6 }, () => hold(b.token, eventId, { seatIds: ['A-3-1', 'A-3-2'] })));
  probe.tried += replies.length;
  expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
  // The others are refused at the claim gate (their seats are the winner's) or by the checkout already holding.
  for (const r of replies.filter((x) => x.status !== 201))
    expect(['CHECKOUT_IN_PROGRESS', 'SEATS_UNAVAILABLE']).toContain(errorOf(r)?.code);

  const racers = await Promise.all(Array.from({ length: 6 }, (_, i) => newBuyer(api.url, `Racer ${i}`)));
  const race = await Promise.all(racers.map((r) => hold(r.token, eventId, { seatIds: ['A-4-1', 'A-4-2'] })));
  probe.tried += race.length;
  expect(race.filter((r) => r.status === 201)).toHaveLength(1);
  for (const r of race.filter((x) => x.status !== 201)) expect(errorOf(r)?.code).toBe('SEATS_UNAVAILABLE');
  const audit = await auditEvents(api.deps.pool, [eventId]);
  expect(audit.violations.seatInOverlappingHolds).toBe(0);
  expect(audit.totals.seatsHeld).toBe(4);
});

test('a declined card then a double purchase: the hold stays, one charge in the end', async () => {
  const eventId = await event();
  const b = await newBuyer(api.url);
  const held = okBody(await hold(b.token, eventId, { quantity: 1 }));
  const declined = await purchase(b.token, eventId, { holdId: held.holdId, paymentMethod: 'pm_card_chargeDeclined' });
  probe.tried++;
  expect(errorOf(declined)?.code).toBe('PAYMENT_DECLINED');
  // An unknown test card is declined (and recorded as a declined payment), never charged.
  const unknown = await purchase(b.token, eventId, { holdId: held.holdId, paymentMethod: 'pm_card_doesnotexist' });
  probe.tried++;
  expect(errorOf(unknown)?.code).toBe('PAYMENT_DECLINED');
  const [a, c] = await Promise.all([
    purchase(b.token, eventId, { holdId: held.holdId, paymentMethod: 'pm_card_visa' }),
    purchase(b.token, eventId, { holdId: held.holdId, paymentMethod: 'pm_card_visa' }),
  ]);
  probe.tried += 2;
  expect([a.status, c.status]).toContain(200);
  expect((await paymentsOf(held.holdId)).filter((s) => s === 'succeeded')).toHaveLength(1);
});
