/**
 * Seats per verified person, in reserve_hold() on the real Postgres: the seats
 * that every account of one person (the identity provider's verified_id) holds
 * or bought for an event count against maxSeatsPerBuyer; two accounts of one
 * person holding at once cannot both slip under it; and the check costs a
 * losing attempt, or a buyer with no verified identity, nothing: neither takes
 * the person's lock.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { createPool, withTransaction } from '../../db/pool';
import { migrate } from '../../db/migrate';
import { reserveSeats } from '../../db/queries/seats';
import type { HoldRequest } from '../../domain/checkout';
import { DomainError } from '../../domain/errors';
import { requireEnv } from '../../harness/runtime';
import { seedBuyer, seedEvent } from '../../harness/seed';

let pool: Pool;

beforeAll(async () => {
  pool = createPool(requireEnv('DATABASE_URL'), { max: 12 });
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
});

const newHoldId = () => `hold_${randomUUID().replace(/-/g, '')}`;
const person = () => `idv_${randomUUID().slice(0, 8)}`;

function reserve(eventId: string, buyerId: string, request: HoldRequest, client?: PoolClient) {
  const input = { holdId: newHoldId(), eventId, buyerId, checkoutId: 'test', request, graceSeconds: 0 };
  return client ? reserveSeats(client, input) : withTransaction(pool, (c) => reserveSeats(c, input));
}

async function outcome(p: Promise<unknown>): Promise<{ code: string; details?: unknown }> {
  try {
    await p;
    return { code: 'ok' };
  } catch (err) {
    if (err instanceof DomainError) return { code: err.code, details: err.details };
    throw err;
  }
}

test('the accounts of one person share maxSeatsPerBuyer; other people and unverified buyers do not count', async () => {
  const eventId = await seedEvent(pool, { maxSeatsPerBuyer: 6 });
  const who = person();
  const [a, b, c, d] = [await seedBuyer(pool), await seedBuyer(pool), await seedBuyer(pool), await seedBuyer(pool)];
  await reserve(eventId, a, { kind: 'seats', seatIds: ['A-1-1', 'A-1-2', 'A-1-3', 'A-1-4'], verifiedIdentity: who });

  const refused = await outcome(reserve(eventId, b, { kind: 'best', quantity: 3, verifiedIdentity: who }));
  expect(refused).toEqual({
    code: 'LIMIT_EXCEEDED',
    details: { reason: 'seats_per_identity', maxSeatsPerBuyer: 6, seatsOfIdentity: 4, requested: 3 },
  });
  const named = await outcome(reserve(eventId, b, { kind: 'seats', seatIds: ['A-2-1', 'A-2-2', 'A-2-3'], verifiedIdentity: who }));
  expect(named.code).toBe('LIMIT_EXCEEDED');
  // The refusals took nothing.
  const held = await pool.query(`SELECT count(*)::int AS n FROM seats WHERE event_id = $1 AND status = 'held'`, [eventId]);
  expect(held.rows[0].n).toBe(4);

  // Up to the limit is fine; another person, or a buyer with no verified identity, is not affected.
  expect((await outcome(reserve(eventId, b, { kind: 'best', quantity: 2, verifiedIdentity: who }))).code).toBe('ok');
  expect((await outcome(reserve(eventId, c, { kind: 'best', quantity: 6, verifiedIdentity: person() }))).code).toBe('ok');
  expect((await outcome(reserve(eventId, d, { kind: 'best', quantity: 6 }))).code).toBe('ok');
});

test('bought seats count; released and expired ones do not', async () => {
  const eventId = await seedEvent(pool, { maxSeatsPerBuyer: 4 });
  const who = person();
  const buyers = await Promise.all(Array.from({ length: 5 }, () => seedBuyer(pool)));
  const first = await reserve(eventId, buyers[0]!, { kind: 'best', quantity: 4, verifiedIdentity: who });
  const again = { kind: 'best' as const, quantity: 1, verifiedIdentity: who };

  // Bought: still counts once the hold has turned into an order.
  await pool.query(`UPDATE holds SET status = 'purchased' WHERE id = $1`, [first.hold.holdId]);
  expect((await outcome(reserve(eventId, buyers[1]!, again))).code).toBe('LIMIT_EXCEEDED');
  // Released (the buyer let go, or the payment failed): the seats are the person's no more.
  await pool.query(`UPDATE holds SET status = 'released' WHERE id = $1`, [first.hold.holdId]);
  const second = await reserve(eventId, buyers[1]!, { kind: 'best', quantity: 4, verifiedIdentity: who });
  expect((await outcome(reserve(eventId, buyers[2]!, again))).code).toBe('LIMIT_EXCEEDED');
  // Past its window (and grace), though nothing has marked it expired yet.
  await pool.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = $1`, [second.hold.holdId]);
  expect((await outcome(reserve(eventId, buyers[2]!, { ...again, quantity: 4 }))).code).toBe('ok');
});

test('accounts of one person holding at the same moment: the seats taken never exceed the limit', async () => {
  const eventId = await seedEvent(pool, { maxSeatsPerBuyer: 6 });
  const who = person();
  const accounts = await Promise.all(Array.from({ length: 8 }, () => seedBuyer(pool)));
  // Eight accounts, four seats each, different seats: only one can win.
  const results = await Promise.all(
    accounts.map((b, i) =>
      outcome(
        reserve(eventId, b, {
          kind: 'seats',
          seatIds: [1, 2, 3, 4].map((n) => `A-${(i % 4) + 1}-${n + (i >= 4 ? 5 : 0)}`),
          verifiedIdentity: who,
        }),
      ),
    ),
  );
  expect(results.filter((r) => r.code === 'ok')).toHaveLength(1);
  expect(results.filter((r) => r.code === 'LIMIT_EXCEEDED')).toHaveLength(7);
  // Best available, two seats each: three of eight win.
  const other = person();
  const best = await Promise.all(accounts.map((b) => outcome(reserve(eventId, b, { kind: 'best', quantity: 2, verifiedIdentity: other }))));
  expect(best.filter((r) => r.code === 'ok')).toHaveLength(3);
  const { rows } = await pool.query(
    `SELECT verified_identity AS who, sum(cardinality(seat_ids))::int AS n FROM holds WHERE event_id = $1 GROUP BY 1 ORDER BY 2`,
    [eventId],
  );
  expect(rows).toEqual([
    { who, n: 4 },
    { who: other, n: 6 },
  ]);
});

test('a losing attempt and an unverified buyer never take the person’s lock; a winning verified attempt does', async () => {
  const eventId = await seedEvent(pool, { maxSeatsPerBuyer: 6 });
  const who = person();
  const [a, b, c] = [await seedBuyer(pool), await seedBuyer(pool), await seedBuyer(pool)];
  await reserve(eventId, a, { kind: 'seats', seatIds: ['A-1-1'] });

  // Another session holds the lock of this person for this event, as a concurrent hold of theirs would.
  const holder = await pool.connect();
  const probe = await pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 727274009))', [`${eventId}/${who}`]);
    await probe.query(`SET lock_timeout = '1s'`);
    // A loser answers from its read alone, whoever holds the lock.
    const lost = await outcome(reserve(eventId, b, { kind: 'seats', seatIds: ['A-1-1'], verifiedIdentity: who }, probe));
    expect(lost.code).toBe('SEATS_UNAVAILABLE');
    // A buyer with no verified identity wins without it.
    expect((await outcome(reserve(eventId, c, { kind: 'seats', seatIds: ['A-1-2'] }, probe))).code).toBe('ok');
    // A verified winner waits for it (here, until lock_timeout gives up: the attempt fails and takes nothing).
    await expect(reserve(eventId, b, { kind: 'seats', seatIds: ['A-1-3'], verifiedIdentity: who }, probe)).rejects.toThrow(/lock timeout/);
    const seat = await pool.query(`SELECT status FROM seats WHERE event_id = $1 AND seat_id = 'A-1-3'`, [eventId]);
    expect(seat.rows[0].status).toBe('available');
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
    probe.release();
  }
  expect((await outcome(reserve(eventId, b, { kind: 'seats', seatIds: ['A-1-3'], verifiedIdentity: who }))).code).toBe('ok');
});

test("an unverified or risky account's smaller allowance counts like maxSeatsPerBuyer: per request, against what it bought, and for its person", async () => {
  const eventId = await seedEvent(pool, { maxSeatsPerBuyer: 6 });
  const [risky, other] = [await seedBuyer(pool), await seedBuyer(pool)];

  const tooMany = await outcome(reserve(eventId, risky, { kind: 'best', quantity: 3, maxSeats: 2 }));
  expect(tooMany).toEqual({ code: 'LIMIT_EXCEEDED', details: { maxSeatsPerBuyer: 2, alreadyBought: 0, requested: 3 } });
  const named = await outcome(reserve(eventId, risky, { kind: 'seats', seatIds: ['A-4-1', 'A-4-2', 'A-4-3'], maxSeats: 2 }));
  expect(named.code).toBe('LIMIT_EXCEEDED');

  // Two seats, bought: the order counts, so one more is refused, though the event allows six.
  const first = await reserve(eventId, risky, { kind: 'best', quantity: 2, maxSeats: 2 });
  await pool.query(`UPDATE holds SET status = 'purchased' WHERE id = $1`, [first.hold.holdId]);
  const payment = `pay_risky${first.hold.holdId.slice(5)}`;
  await pool.query(
    `INSERT INTO payments (id, idempotency_key, checkout_id, hold_id, event_id, buyer_id, provider, amount_cents, currency, status)
     VALUES ($1, $1, 'test', $2, $3, $4, 'test', $5, 'usd', 'succeeded')`,
    [payment, first.hold.holdId, eventId, risky, first.hold.amountCents],
  );
  await pool.query(
    `INSERT INTO orders (id, event_id, buyer_id, hold_id, payment_id, status, seat_ids, amount_cents)
     VALUES ($1, $2, $3, $4, $5, 'confirmed', $6, $7)`,
    [`ord_risky${first.hold.holdId.slice(5)}`, eventId, risky, first.hold.holdId, payment, first.hold.seatIds, first.hold.amountCents],
  );
  expect(await outcome(reserve(eventId, risky, { kind: 'best', quantity: 1, maxSeats: 2 }))).toEqual({
    code: 'LIMIT_EXCEEDED',
    details: { maxSeatsPerBuyer: 2, alreadyBought: 2, requested: 1 },
  });
  // Without the allowance (a process passing ten arguments, or a buyer nobody scored) the event's limit stands.
  expect((await outcome(reserve(eventId, risky, { kind: 'best', quantity: 4 }))).code).toBe('ok');
  expect((await outcome(reserve(eventId, other, { kind: 'best', quantity: 6 }))).code).toBe('ok');

  // A verified person's accounts: the smaller allowance is the person's limit too.
  const who = person();
  const [a, b] = [await seedBuyer(pool), await seedBuyer(pool)];
  await reserve(eventId, a, { kind: 'best', quantity: 1, verifiedIdentity: who });
  expect(await outcome(reserve(eventId, b, { kind: 'best', quantity: 2, verifiedIdentity: who, maxSeats: 2 }))).toEqual({
    code: 'LIMIT_EXCEEDED',
    details: { reason: 'seats_per_identity', maxSeatsPerBuyer: 2, seatsOfIdentity: 1, requested: 2 },
  });
});
