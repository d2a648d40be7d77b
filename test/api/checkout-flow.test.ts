/**
 * The happy path and its neighbours through real HTTP, a real worker on the
 * Temporal dev server, Postgres, Redis and stripe-mock.
 */
import { auditDatabase } from '../../db/audit';
import { apiClient, createEvent, expectError, expectOk, newBuyer, reply, request, orderIdOf } from '../support/http';
import { testConfig } from '../../harness/stack';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);

test('hold by seat ids, pay, and read the order back', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url, 'Ada');
  const api = apiClient(stack.api.url, buyer.token);
  const event = api.v1.events[':eventId'];
  const hold = await reply(event.hold.$post({ param: { eventId }, json: { seatIds: ['A-1-1', 'A-1-2'] }, header: {} }));
  expectOk(hold, 201);
  expect(hold.body.seatIds).toEqual(['A-1-1', 'A-1-2']);
  expect(hold.body.amountCents).toBe(10000);
  const expiresIn = Date.parse(hold.body.expiresAt) - Date.now();
  expect(expiresIn).toBeGreaterThan(290_000);
  expect(expiresIn).toBeLessThanOrEqual(300_000);

  const seats = await reply(event.seats.$get({ param: { eventId }, header: {} }));
  expectOk(seats, 200);
  const status = Object.fromEntries(seats.body.seats.map((s) => [s.seatId, s.status]));
  expect(status['A-1-1']).toBe('held');
  expect(status['A-1-3']).toBe('available');

  const paid = await reply(event.purchase.$post({ param: { eventId }, json: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' } }));
  expectOk(paid, 200);
  expect(paid.body).toMatchObject({ status: 'confirmed', seatIds: ['A-1-1', 'A-1-2'], amountCents: 10000 });

  // GET /v1/orders/:orderId is not in the app's type yet, so it goes raw.
  const orderOf = (token: string) => request(stack.api.url, 'GET', `/v1/orders/${orderIdOf(paid)}`, { token });
  const order = await orderOf(buyer.token);
  expect(order.status).toBe(200);
  expect(order.body).toMatchObject({ orderId: orderIdOf(paid), eventId, buyerId: buyer.buyerId, status: 'confirmed' });

  const other = await newBuyer(stack.api.url, 'Eve');
  expect((await orderOf(other.token)).status).toBe(404);
  expect((await orderOf(config.ADMIN_TOKEN)).status).toBe(200);

  const view = await reply(event.$get({ param: { eventId } }));
  expectOk(view, 200);
  expect(view.body.counts).toEqual({ available: 48, held: 0, sold: 2 });

  // Paying again for the same hold returns the same order and charges nothing.
  const again = await reply(
    event.purchase.$post({ param: { eventId }, json: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' } }),
  );
  expectOk(again, 200);
  expect(orderIdOf(again)).toBe(orderIdOf(paid));
  const charges = await stack.api.deps.pool.query('SELECT count(*)::int AS n FROM payments WHERE hold_id = $1', [hold.body.holdId]);
  expect(charges.rows[0].n).toBe(1);
});

test('best available gives adjacent seats and a declined card keeps the hold', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url);
  const event = apiClient(stack.api.url, buyer.token).v1.events[':eventId'];
  const hold = await reply(event.hold.$post({ param: { eventId }, json: { quantity: 3 }, header: {} }));
  expectOk(hold, 201);
  const numbers = hold.body.seatIds.map((s) => Number(s.split('-')[2])).sort((a, b) => a - b);
  expect(hold.body.seatIds.every((s) => s.startsWith('A-1-'))).toBe(true);
  expect(numbers[2]! - numbers[0]!).toBe(2);

  const second = await reply(event.hold.$post({ param: { eventId }, json: { quantity: 1 }, header: {} }));
  expectError(second, 409, 'CHECKOUT_IN_PROGRESS');

  const purchase = (paymentMethod: string) =>
    reply(event.purchase.$post({ param: { eventId }, json: { holdId: hold.body.holdId, paymentMethod } }));
  const declined = await purchase('pm_card_chargeDeclined');
  expectError(declined, 402, 'PAYMENT_DECLINED');
  expect(declined.body.error.details.declineCode).toBe('generic_decline');

  expectOk(await purchase('pm_card_visa'), 200);
  expect((await auditDatabase(stack.api.deps.pool, { eventIds: [eventId] })).ok).toBe(true);
});

test('releasing a hold returns its seats at once', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url);
  const event = apiClient(stack.api.url, buyer.token).v1.events[':eventId'];
  const hold = await reply(event.hold.$post({ param: { eventId }, json: { seatIds: ['A-2-5'] }, header: {} }));
  expectOk(hold, 201);
  const { holdId } = hold.body;
  expectOk(await reply(event.hold[':holdId'].$delete({ param: { eventId, holdId } })), 200);
  const { rows } = await stack.api.deps.pool.query(`SELECT status FROM seats WHERE event_id = $1 AND seat_id = 'A-2-5'`, [eventId]);
  expect(rows[0].status).toBe('available');
  const late = await reply(event.purchase.$post({ param: { eventId }, json: { holdId, paymentMethod: 'pm_card_visa' } }));
  expectError(late, 410, 'HOLD_EXPIRED');
  // The same buyer may start over, and another buyer can take the seat.
  const other = await newBuyer(stack.api.url);
  const retake = apiClient(stack.api.url, other.token).v1.events[':eventId'].hold.$post({
    param: { eventId },
    json: { seatIds: ['A-2-5'] },
    header: {},
  });
  expectOk(await reply(retake), 201);
});
