/**
 * The seat queries and the schema's own guarantees, on the real Postgres:
 * the database refuses a double sale whatever the application does.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool, withTransaction } from '../../db/pool';
import { migrate } from '../../db/migrate';
import { releaseHold, reserveSeats } from '../../db/queries/seats';
import type { HoldRequest } from '../../domain/checkout';
import { DomainError } from '../../domain/errors';
import { chooseBlock } from '../../domain/seating';
import { requireEnv } from '../../harness/runtime';
import { seedBuyer, seedEvent } from '../../harness/seed';

let pool: Pool;

beforeAll(async () => {
  pool = createPool(requireEnv('DATABASE_URL'), { max: 10 });
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
});

const newHoldId = () => `hold_${randomUUID().replace(/-/g, '')}`;

async function reserve(eventId: string, buyerId: string, request: HoldRequest, holdId = newHoldId()) {
  return withTransaction(pool, (c) => reserveSeats(c, { holdId, eventId, buyerId, checkoutId: 'test', request, graceSeconds: 0 }));
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
}

test('a hold is all or nothing', async () => {
  const eventId = await seedEvent(pool);
  const [a, b] = [await seedBuyer(pool), await seedBuyer(pool)];
  await reserve(eventId, a, { kind: 'seats', seatIds: ['A-1-2'] });
  expect(await code(reserve(eventId, b, { kind: 'seats', seatIds: ['A-1-1', 'A-1-2', 'A-1-3'] }))).toBe('SEATS_UNAVAILABLE');
  const { rows } = await pool.query(`SELECT seat_id, status FROM seats WHERE event_id = $1 AND seat_id IN ('A-1-1','A-1-3')`, [eventId]);
  expect(rows.every((r) => r.status === 'available')).toBe(true);
});

test('the reserve is idempotent by hold id', async () => {
  const eventId = await seedEvent(pool);
  const a = await seedBuyer(pool);
  const holdId = newHoldId();
  const first = await reserve(eventId, a, { kind: 'best', quantity: 2 }, holdId);
  const again = await reserve(eventId, a, { kind: 'best', quantity: 2 }, holdId);
  expect(again.replayed).toBe(true);
  expect(again.hold.seatIds).toEqual(first.hold.seatIds);
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM seats WHERE hold_id = $1`, [holdId]);
  expect(rows[0].n).toBe(2);
});

test('a hold past its window counts as free even though nothing released it', async () => {
  const eventId = await seedEvent(pool);
  const [a, b] = [await seedBuyer(pool), await seedBuyer(pool)];
  const first = await reserve(eventId, a, { kind: 'seats', seatIds: ['A-2-1', 'A-2-2'] });
  expect(await code(reserve(eventId, b, { kind: 'seats', seatIds: ['A-2-2'] }))).toBe('SEATS_UNAVAILABLE');
  // Every worker was down when the window ended: no release ran.
  await pool.query(`UPDATE seats SET hold_expires_at = now() - interval '1 second' WHERE hold_id = $1`, [first.hold.holdId]);
  const second = await reserve(eventId, b, { kind: 'seats', seatIds: ['A-2-2'] });
  expect(second.hold.seatIds).toEqual(['A-2-2']);
  const { rows } = await pool.query(`SELECT status FROM holds WHERE id = $1`, [first.hold.holdId]);
  expect(rows[0].status).toBe('expired');
  // The late release of the first hold leaves the seat the second hold took alone.
  const freed = await withTransaction(pool, (c) => releaseHold(c, first.hold.holdId, 'expired'));
  expect(freed.map((f) => f.seatId)).toEqual(['A-2-1']);
  const seat = await pool.query(`SELECT hold_id FROM seats WHERE event_id = $1 AND seat_id = 'A-2-2'`, [eventId]);
  expect(seat.rows[0].hold_id).toBe(second.hold.holdId);
});

test('the schema itself refuses a second sale and inconsistent seat states', async () => {
  const eventId = await seedEvent(pool);
  // A seat marked held without a hold, or sold without an order, violates the state constraint.
  await expect(pool.query(`UPDATE seats SET status = 'held' WHERE event_id = $1 AND seat_id = 'A-3-1'`, [eventId])).rejects.toThrow(
    /seat_state_consistent/,
  );
  await expect(
    pool.query(`UPDATE seats SET status = 'sold', hold_id = 'h', holder = 'b' WHERE event_id = $1 AND seat_id = 'A-3-1'`, [eventId]),
  ).rejects.toThrow(/seat_state_consistent/);
  // A seat can appear in one order only, ever: a second order claiming it is refused by the key.
  // Built inside a transaction that is rolled back, so no other test ever sees these rows.
  const buyer = await seedBuyer(pool);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const orderFor = async (n: number) => {
      const holdId = newHoldId();
      const ids = { payment: `pay_test${n}${holdId.slice(5)}`, order: `ord_test${n}${holdId.slice(5)}` };
      await client.query(
        `INSERT INTO holds (id, event_id, buyer_id, checkout_id, seat_ids, amount_cents, expires_at, status)
         VALUES ($1, $2, $3, 'test', '{A-3-1}', 5000, now(), 'purchased')`,
        [holdId, eventId, buyer],
      );
      await client.query(
        `INSERT INTO payments (id, idempotency_key, checkout_id, hold_id, event_id, buyer_id, provider, amount_cents, currency, status)
         VALUES ($1, $1, 'test', $2, $3, $4, 'test', 5000, 'usd', 'succeeded')`,
        [ids.payment, holdId, eventId, buyer],
      );
      await client.query(
        `INSERT INTO orders (id, event_id, buyer_id, hold_id, payment_id, status, seat_ids, amount_cents)
         VALUES ($1, $2, $3, $4, $5, 'confirmed', '{A-3-1}', 5000)`,
        [ids.order, eventId, buyer, holdId, ids.payment],
      );
      return ids.order;
    };
    const [first, second] = [await orderFor(1), await orderFor(2)];
    await client.query(`INSERT INTO order_seats (event_id, seat_id, order_id) VALUES ($1, 'A-3-1', $2)`, [eventId, first]);
    await expect(
      client.query(`INSERT INTO order_seats (event_id, seat_id, order_id) VALUES ($1, 'A-3-1', $2)`, [eventId, second]),
    ).rejects.toThrow(/duplicate key value violates unique constraint "order_seats_pkey"/);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});

test('best available: adjacent seats near the centre, no single orphan seat where avoidable', () => {
  // A free run of 1..10 in a 10-wide row: 4 seats go in the middle.
  expect(chooseBlock({ section: 'A', row: 1, lo: 1, hi: 10, width: 10 }, 4)).toEqual(['A-1-4', 'A-1-5', 'A-1-6', 'A-1-7']);
  // A run of 5: taking the centre 3 would strand a seat on each side; take an edge instead.
  const block = chooseBlock({ section: 'A', row: 1, lo: 3, hi: 7, width: 9 }, 3);
  expect([
    ['A-1-3', 'A-1-4', 'A-1-5'],
    ['A-1-5', 'A-1-6', 'A-1-7'],
  ]).toContainEqual(block);
  // A run exactly the size wanted is taken whole; a run too small gives nothing.
  expect(chooseBlock({ section: 'B', row: 2, lo: 4, hi: 5, width: 10 }, 2)).toEqual(['B-2-4', 'B-2-5']);
  expect(chooseBlock({ section: 'B', row: 2, lo: 4, hi: 5, width: 10 }, 3)).toEqual([]);
});

test('best available in the database prefers a row where the block fits without an orphan', async () => {
  const eventId = await seedEvent(pool, { sections: [{ id: 'A', name: 'A', rows: 2, seatsPerRow: 4, priceCents: 100 }] });
  const [a, b] = [await seedBuyer(pool), await seedBuyer(pool)];
  // Row 1 has 3 free seats (a block of 2 would strand one); row 2 has 4.
  await reserve(eventId, a, { kind: 'seats', seatIds: ['A-1-1'] });
  const r = await reserve(eventId, b, { kind: 'best', quantity: 2 });
  expect(r.hold.seatIds.every((s) => s.startsWith('A-2-'))).toBe(true);
});

test('a 50,000-seat event is created with set-based SQL', async () => {
  const started = Date.now();
  const eventId = await seedEvent(pool, {
    sections: Array.from({ length: 10 }, (_, i) => ({
      id: `S${i}`,
      name: `Section ${i}`,
      rows: 50,
      seatsPerRow: 100,
      priceCents: 5000 + i,
    })),
  });
  console.log(`50,000-seat event created in ${Date.now() - started} ms`);
  const { rows } = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT seat_id)::int AS d FROM seats WHERE event_id = $1`, [
    eventId,
  ]);
  expect(rows[0]).toEqual({ n: 50_000, d: 50_000 });
});

describe('reserve_hold(): the reserve in one round trip', () => {
  test('answers each refusal with its code and changes nothing', async () => {
    const eventId = await seedEvent(pool, { maxSeatsPerBuyer: 2 });
    const [a, b] = [await seedBuyer(pool), await seedBuyer(pool)];
    await reserve(eventId, a, { kind: 'seats', seatIds: ['A-1-1'] });
    const versionsBefore = (await pool.query(`SELECT sum(version)::text AS v FROM seats WHERE event_id = $1`, [eventId])).rows[0].v;
    expect(await code(reserve(eventId, b, { kind: 'seats', seatIds: ['A-1-1', 'A-1-2'] }))).toBe('SEATS_UNAVAILABLE');
    expect(await code(reserve(eventId, b, { kind: 'seats', seatIds: ['A-1-2', 'Z-9-9'] }))).toBe('NOT_FOUND');
    expect(await code(reserve(eventId, b, { kind: 'best', quantity: 1, section: 'nope' }))).toBe('NOT_FOUND');
    expect(await code(reserve(eventId, b, { kind: 'best', quantity: 3 }))).toBe('LIMIT_EXCEEDED');
    expect(await code(reserve('no-such-event', b, { kind: 'best', quantity: 1 }))).toBe('NOT_FOUND');
    // The refused attempts took nothing and recorded no hold.
    const after = await pool.query(`SELECT sum(version)::text AS v FROM seats WHERE event_id = $1`, [eventId]);
    expect(after.rows[0].v).toBe(versionsBefore);
    const holds = await pool.query(`SELECT count(*)::int AS n FROM holds WHERE event_id = $1`, [eventId]);
    expect(holds.rows[0].n).toBe(1);
    // The refusal detail names the seats that are taken.
    try {
      await reserve(eventId, b, { kind: 'seats', seatIds: ['A-1-1', 'A-1-2'] });
    } catch (err) {
      expect((err as DomainError).details).toEqual({ seatIds: ['A-1-1'] });
    }
    await pool.query(`UPDATE events SET state = 'paused' WHERE id = $1`, [eventId]);
    expect(await code(reserve(eventId, b, { kind: 'best', quantity: 1 }))).toBe('EVENT_NOT_ON_SALE');
  });

  test('seats a concurrent attempt has locked are refused at once, named, and nothing is taken', async () => {
    const eventId = await seedEvent(pool);
    const [a, b] = [await seedBuyer(pool), await seedBuyer(pool)];
    const other = await pool.connect();
    try {
      // Another attempt is in the middle of taking A-3-2: it holds the row lock, nothing is committed yet.
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM seats WHERE event_id = $1 AND seat_id = 'A-3-2' FOR UPDATE`, [eventId]);
      const attempt = reserve(eventId, a, { kind: 'seats', seatIds: ['A-3-1', 'A-3-2', 'A-3-3'] });
      await expect(attempt).rejects.toMatchObject({ code: 'SEATS_UNAVAILABLE', details: { seatIds: ['A-3-2'] } });
      await other.query('ROLLBACK');
    } finally {
      other.release();
    }
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM seats WHERE event_id = $1 AND status <> 'available'`, [eventId]);
    expect(rows[0].n).toBe(0);
    // Once the lock is gone the same seats are won, and a retry with the same hold id answers that hold again.
    const holdId = newHoldId();
    const won = await reserve(eventId, b, { kind: 'seats', seatIds: ['A-3-1', 'A-3-2', 'A-3-3'] }, holdId);
    const again = await reserve(eventId, b, { kind: 'seats', seatIds: ['A-3-1', 'A-3-2', 'A-3-3'] }, holdId);
    expect(again.replayed).toBe(true);
    expect(again.hold.seatIds).toEqual(won.hold.seatIds);
  });

  test('a winning reserve answers the database clock and the versions of the seats it took', async () => {
    const eventId = await seedEvent(pool, { holdSeconds: 120 });
    const a = await seedBuyer(pool);
    const r = await reserve(eventId, a, { kind: 'seats', seatIds: ['A-2-2', 'A-2-1'] });
    expect(r.hold.seatIds).toEqual(['A-2-1', 'A-2-2']);
    expect(r.changes.map((c) => c.seatId)).toEqual(['A-2-1', 'A-2-2']);
    const { rows } = await pool.query(`SELECT seat_id, version::int AS v FROM seats WHERE hold_id = $1 ORDER BY seat_id`, [r.hold.holdId]);
    expect(r.changes.map((c) => c.version)).toEqual(rows.map((x) => x.v));
    // The time left by the database's own clock is the window (grace 0 here), less the statement's own time.
    const left = Date.parse(r.hold.dbExpiresAt) - r.dbNow.getTime();
    expect(left).toBeLessThanOrEqual(120_000);
    expect(left).toBeGreaterThan(119_000);
  });

  test('concurrent reserves of overlapping seats: at most one wins, all or nothing', async () => {
    const eventId = await seedEvent(pool);
    const buyers = await Promise.all(Array.from({ length: 8 }, () => seedBuyer(pool)));
    const results = await Promise.all(
      buyers.map((b, i) => code(reserve(eventId, b, { kind: 'seats', seatIds: i % 2 ? ['A-3-1', 'A-3-2'] : ['A-3-2', 'A-3-3'] }))),
    );
    const { rows } = await pool.query(
      `SELECT hold_id, count(*)::int AS n FROM seats WHERE event_id = $1 AND status = 'held' GROUP BY hold_id`,
      [eventId],
    );
    // Every hold that won has both its seats; A-3-2 is in at most one of them.
    expect(rows.every((r) => r.n === 2)).toBe(true);
    expect(rows.length).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r === 'ok').length).toBe(rows.length);
    expect(results.every((r) => r === 'ok' || r === 'SEATS_UNAVAILABLE')).toBe(true);
  });

  test('without the foreign keys, an event that has holds still cannot be deleted', async () => {
    const eventId = await seedEvent(pool);
    await reserve(eventId, await seedBuyer(pool), { kind: 'best', quantity: 1 });
    await expect(pool.query('DELETE FROM events WHERE id = $1', [eventId])).rejects.toThrow(/cannot be deleted/);
  });
});
