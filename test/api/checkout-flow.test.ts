/**
 * The happy path and its neighbours through real HTTP, a real worker on the
 * Temporal dev server, Postgres, Redis and stripe-mock.
 */
import { auditDatabase } from '../../db/audit';
import { call, createEvent, newBuyer } from '../support/http';
import { testConfig } from '../../harness/stack';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);

test('hold by seat ids, pay, and read the order back', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url, 'Ada');
  const hold = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, {
    token: buyer.token,
    body: { seatIds: ['A-1-1', 'A-1-2'] },
  });
  expect(hold.status).toBe(201);
  expect(hold.body.seatIds).toEqual(['A-1-1', 'A-1-2']);
  expect(hold.body.amountCents).toBe(10000);
  const expiresIn = Date.parse(hold.body.expiresAt) - Date.now();
  expect(expiresIn).toBeGreaterThan(290_000);
  expect(expiresIn).toBeLessThanOrEqual(300_000);

  const seats = await call(stack.api.url, 'GET', `/v1/events/${eventId}/seats`);
  const status = Object.fromEntries(seats.body.seats.map((s: any) => [s.seatId, s.status]));
  expect(status['A-1-1']).toBe('held');
  expect(status['A-1-3']).toBe('available');

  const paid = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect(paid.status).toBe(200);
  expect(paid.body).toMatchObject({ status: 'confirmed', seatIds: ['A-1-1', 'A-1-2'], amountCents: 10000 });

  const order = await call(stack.api.url, 'GET', `/v1/orders/${paid.body.orderId}`, { token: buyer.token });
  expect(order.status).toBe(200);
  expect(order.body).toMatchObject({ orderId: paid.body.orderId, eventId, buyerId: buyer.buyerId, status: 'confirmed' });

  const other = await newBuyer(stack.api.url, 'Eve');
  const peek = await call(stack.api.url, 'GET', `/v1/orders/${paid.body.orderId}`, { token: other.token });
  expect(peek.status).toBe(404);
  const admin = await call(stack.api.url, 'GET', `/v1/orders/${paid.body.orderId}`, { token: config.ADMIN_TOKEN });
  expect(admin.status).toBe(200);

  const event = await call(stack.api.url, 'GET', `/v1/events/${eventId}`);
  expect(event.body.counts).toEqual({ available: 48, held: 0, sold: 2 });

  // Paying again for the same hold returns the same order and charges nothing.
  const again = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect(again.status).toBe(200);
  expect(again.body.orderId).toBe(paid.body.orderId);
  const charges = await stack.api.deps.pool.query('SELECT count(*)::int AS n FROM payments WHERE hold_id = $1', [hold.body.holdId]);
  expect(charges.rows[0].n).toBe(1);
});

test('best available gives adjacent seats and a declined card keeps the hold', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url);
  const hold = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { quantity: 3 } });
  expect(hold.status).toBe(201);
  const numbers = hold.body.seatIds.map((s: string) => Number(s.split('-')[2])).sort((a: number, b: number) => a - b);
  expect(hold.body.seatIds.every((s: string) => s.startsWith('A-1-'))).toBe(true);
  expect(numbers[2] - numbers[0]).toBe(2);

  const second = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { quantity: 1 } });
  expect(second.status).toBe(409);
  expect(second.body.error.code).toBe('CHECKOUT_IN_PROGRESS');

  const declined = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_chargeDeclined' },
  });
  expect(declined.status).toBe(402);
  expect(declined.body.error.code).toBe('PAYMENT_DECLINED');
  expect(declined.body.error.details.declineCode).toBe('generic_decline');

  const paid = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect(paid.status).toBe(200);
  expect((await auditDatabase(stack.api.deps.pool, { eventIds: [eventId] })).ok).toBe(true);
});

test('releasing a hold returns its seats at once', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url);
  const hold = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { seatIds: ['A-2-5'] } });
  expect(hold.status).toBe(201);
  const released = await call(stack.api.url, 'DELETE', `/v1/events/${eventId}/hold/${hold.body.holdId}`, { token: buyer.token });
  expect(released.status).toBe(200);
  const { rows } = await stack.api.deps.pool.query(`SELECT status FROM seats WHERE event_id = $1 AND seat_id = 'A-2-5'`, [eventId]);
  expect(rows[0].status).toBe('available');
  const late = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect([410]).toContain(late.status);
  expect(late.body.error.code).toBe('HOLD_EXPIRED');
  // The same buyer may start over, and another buyer can take the seat.
  const other = await newBuyer(stack.api.url);
  const retake = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token: other.token, body: { seatIds: ['A-2-5'] } });
  expect(retake.status).toBe(201);
});
