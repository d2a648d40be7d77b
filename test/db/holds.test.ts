/**
 * Keeping a hold for a payment in flight, and the audit's view of holds and
 * payments, on the real Postgres.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { auditDatabase } from '../../db/audit';
import { createPool, withTransaction } from '../../db/pool';
import { migrate } from '../../db/migrate';
import { extendHoldForPayment } from '../../db/queries/seats';
import { beginPayment, claimForRefund, lockSucceededPayment, settlePayment } from '../../db/queries/payments';
import { reserveSeats } from '../../db/queries/seats';
import { requireEnv } from '../../harness/runtime';
import { seedBuyer, seedEvent } from '../../harness/seed';

let pool: Pool;

beforeAll(async () => {
  pool = createPool(requireEnv('DATABASE_URL'), { max: 5 });
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
});

const newHoldId = () => `hold_${randomUUID().replace(/-/g, '')}`;

async function hold(eventId: string, seatIds: string[], holdId = newHoldId()) {
  const buyerId = await seedBuyer(pool);
  await withTransaction(pool, (c) =>
    reserveSeats(c, { holdId, eventId, buyerId, checkoutId: 'test', request: { kind: 'seats', seatIds }, graceSeconds: 0 }),
  );
  return { holdId, buyerId };
}

async function seatExpiry(eventId: string, seatId: string): Promise<Date> {
  const { rows } = await pool.query('SELECT hold_expires_at FROM seats WHERE event_id = $1 AND seat_id = $2', [eventId, seatId]);
  return rows[0].hold_expires_at;
}

test('a hold that owns its seats is kept longer, in the seats and in the holds row alike, and never shortened', async () => {
  const eventId = await seedEvent(pool, { holdSeconds: 30 });
  const { holdId } = await hold(eventId, ['A-1-1', 'A-1-2']);
  const before = await seatExpiry(eventId, 'A-1-1');
  const kept = await extendHoldForPayment(pool, holdId, 600);
  expect(kept.owned).toBe(true);
  expect(kept.expiresAt!.getTime() - before.getTime()).toBeGreaterThan(500_000);
  expect((await seatExpiry(eventId, 'A-1-2')).getTime()).toBe(kept.expiresAt!.getTime());
  const again = await extendHoldForPayment(pool, holdId, 5);
  expect(again).toMatchObject({ owned: true, expiresAt: kept.expiresAt });
});

test('a hold that lost a seat, or expired in the database, is not kept and its seats are untouched', async () => {
  const eventId = await seedEvent(pool);
  const { holdId } = await hold(eventId, ['A-2-1', 'A-2-2']);
  await pool.query(`UPDATE seats SET hold_expires_at = now() - interval '1 second' WHERE hold_id = $1`, [holdId]);
  expect((await extendHoldForPayment(pool, holdId, 600)).owned).toBe(false);
  const { holdId: rival } = await hold(eventId, ['A-2-2']);
  expect((await extendHoldForPayment(pool, holdId, 600)).owned).toBe(false);
  expect((await seatExpiry(eventId, 'A-2-1')).getTime()).toBeLessThan(Date.now());
  expect((await extendHoldForPayment(pool, rival, 60)).owned).toBe(true);
  expect((await extendHoldForPayment(pool, 'hold_unknown', 60)).owned).toBe(false);
  // The displaced hold ended when the rival took its seat: no overlap in the holds' intervals.
  expect((await auditDatabase(pool, { eventIds: [eventId] })).violations.seatInOverlappingHolds).toBe(0);
});

test('the audit sees a seat in two holds at once from the holds table alone', async () => {
  const eventId = await seedEvent(pool);
  const { holdId } = await hold(eventId, ['A-3-1']);
  // A second hold row claiming the same seat over the same time (the seat row can name only one of them).
  await pool.query(
    `INSERT INTO holds (id, event_id, buyer_id, checkout_id, seat_ids, amount_cents, expires_at, created_at)
     SELECT $2, event_id, buyer_id, checkout_id, seat_ids, amount_cents, expires_at, created_at + interval '1 second' FROM holds WHERE id = $1`,
    [holdId, newHoldId()],
  );
  expect((await auditDatabase(pool, { eventIds: [eventId] })).violations.seatInOverlappingHolds).toBe(1);
  await pool.query(`DELETE FROM holds WHERE event_id = $1 AND id <> $2`, [eventId, holdId]);
});

test('a late success moves a declined payment, but never makes a second success for one hold; a claimed refund blocks confirmation', async () => {
  const eventId = await seedEvent(pool);
  const { holdId, buyerId } = await hold(eventId, ['A-4-1']);
  const pay = (n: number) =>
    beginPayment(pool, {
      id: `pay_${randomUUID().replace(/-/g, '')}`,
      idempotencyKey: `${holdId}:${n}`,
      checkoutId: 'test',
      holdId,
      eventId,
      buyerId,
      provider: 'test-cards',
      amountCents: 5000,
      currency: 'usd',
    });
  const first = await pay(1);
  await settlePayment(pool, first.id, { status: 'declined', providerRef: 'pi_first', declineCode: 'timed_out' });
  const second = await pay(2);
  expect((await settlePayment(pool, second.id, { status: 'succeeded', providerRef: 'pi_second' })).status).toBe('succeeded');
  // The first one's success arrives late: the hold already has a charge, so it stays declined (and is refunded by the caller).
  expect((await settlePayment(pool, first.id, { status: 'succeeded', providerRef: null })).status).toBe('declined');

  expect(await lockSucceededPayment(pool, second.id, holdId)).toBe(true);
  const claim = await withTransaction(pool, (c) => claimForRefund(c, second.id));
  expect(claim).toMatchObject({ orderId: null, payment: { id: second.id } });
  expect(claim!.payment.refundRequestedAt).not.toBeNull();
  expect(await lockSucceededPayment(pool, second.id, holdId)).toBe(false);
});
