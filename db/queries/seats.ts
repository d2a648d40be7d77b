/**
 * Every write to `seats` lives here. Each is a conditional update keyed by hold
 * id, so a retried activity cannot double-act, and the table's constraints make
 * overselling impossible whatever the caller does.
 */
import type { PoolClient } from 'pg';
import { DomainError } from '../../domain/errors';
import { chooseBlock, type Island } from '../../domain/seating';
import type { HoldRequest, Reservation } from '../../domain/checkout';
import type { SeatChange, SeatStatus, VersionedSeat } from '../../domain/seats';

/**
 * A seat is free when available, or held by a hold whose window (plus grace) has passed.
 * Holds record clock_timestamp(), not the transaction's start, as the moments they took and
 * gave back their seats, so the holds table is an exact timeline of every seat.
 */
const FREE = `(s.status = 'available' OR (s.status = 'held' AND s.hold_expires_at < now()))`;

interface SaleTerms {
  state: string;
  onSaleNow: boolean;
  holdSeconds: number;
  maxSeatsPerBuyer: number;
}

async function lockSaleTerms(client: PoolClient, eventId: string): Promise<SaleTerms> {
  // A plain read: a share lock here made every concurrent hold of one event queue on the same
  // row's multixact. A hold racing a pause by milliseconds is harmless; the seats' own
  // conditional updates are what guarantee correctness.
  const { rows } = await client.query<{ state: string; on_sale_now: boolean; hold_seconds: number; max: number }>(
    `SELECT state, on_sale_at <= now() AS on_sale_now, hold_seconds, max_seats_per_buyer AS max
       FROM events WHERE id = $1`,
    [eventId],
  );
  const r = rows[0];
  if (!r) throw new DomainError('NOT_FOUND', `event ${eventId} does not exist`);
  return { state: r.state, onSaleNow: r.on_sale_now, holdSeconds: r.hold_seconds, maxSeatsPerBuyer: r.max };
}

async function seatsAlreadyBought(client: PoolClient, eventId: string, buyerId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT COALESCE(sum(cardinality(seat_ids)), 0)::int AS n FROM orders
      WHERE event_id = $1 AND buyer_id = $2 AND status = 'confirmed'`,
    [eventId, buyerId],
  );
  return rows[0]?.n ?? 0;
}

interface TakeResult {
  taken: { seatId: string; priceCents: number; version: number }[];
  displacedHolds: string[];
}

/** Takes exactly these seats for the hold, or none of them (the caller rolls back on a short count). */
async function takeSeats(
  client: PoolClient,
  eventId: string,
  seatIds: string[],
  holdId: string,
  buyerId: string,
  lifetimeSeconds: number,
): Promise<TakeResult> {
  const { rows } = await client.query<{ seat_id: string; price_cents: number; version: string; old_hold: string | null }>(
    `WITH target AS (
       SELECT s.seat_id, s.hold_id AS old_hold FROM seats s
        WHERE s.event_id = $1 AND s.seat_id = ANY($2::text[]) AND ${FREE}
        ORDER BY s.seat_id
        FOR UPDATE SKIP LOCKED)
     UPDATE seats s
        SET status = 'held', hold_id = $3, holder = $4,
            hold_expires_at = now() + make_interval(secs => $5),
            version = nextval('seat_version_seq')
       FROM target
      WHERE s.event_id = $1 AND s.seat_id = target.seat_id
     RETURNING s.seat_id, s.price_cents, s.version, target.old_hold`,
    [eventId, seatIds, holdId, buyerId, lifetimeSeconds],
  );
  return {
    taken: rows.map((r) => ({ seatId: r.seat_id, priceCents: r.price_cents, version: Number(r.version) })),
    displacedHolds: [...new Set(rows.map((r) => r.old_hold).filter((h): h is string => h !== null))],
  };
}

async function bestIslands(
  client: PoolClient,
  eventId: string,
  quantity: number,
  section: string | undefined,
  exclude: string[],
): Promise<Island[]> {
  const { rows } = await client.query<{
    section_id: string;
    row_no: number;
    lo: number;
    hi: number;
    width: number;
  }>(
    `WITH free AS (
       SELECT s.section_id, s.row_no, s.seat_no,
              s.seat_no - row_number() OVER (PARTITION BY s.section_id, s.row_no ORDER BY s.seat_no) AS grp
         FROM seats s
        WHERE s.event_id = $1 AND ($2::text IS NULL OR s.section_id = $2) AND ${FREE}
          AND NOT (s.seat_id = ANY($4::text[])))
     SELECT f.section_id, f.row_no, min(f.seat_no) AS lo, max(f.seat_no) AS hi, min(sec.seats_per_row) AS width
       FROM free f JOIN sections sec ON sec.event_id = $1 AND sec.id = f.section_id
      GROUP BY f.section_id, f.row_no, f.grp, sec.rank
     HAVING count(*) >= $3
      ORDER BY (count(*) - $3 = 1), sec.rank, f.row_no,
               abs((min(f.seat_no) + max(f.seat_no)) / 2.0 - (min(sec.seats_per_row) + 1) / 2.0)
      LIMIT 8`,
    [eventId, section ?? null, quantity, exclude],
  );
  return rows.map((r) => ({ section: r.section_id, row: r.row_no, lo: r.lo, hi: r.hi, width: r.width }));
}

async function bestScattered(
  client: PoolClient,
  eventId: string,
  quantity: number,
  section: string | undefined,
  exclude: string[],
): Promise<string[]> {
  const { rows } = await client.query<{ seat_id: string }>(
    `SELECT s.seat_id FROM seats s JOIN sections sec ON sec.event_id = s.event_id AND sec.id = s.section_id
      WHERE s.event_id = $1 AND ($2::text IS NULL OR s.section_id = $2) AND ${FREE}
        AND NOT (s.seat_id = ANY($4::text[]))
      ORDER BY sec.rank, s.row_no, s.seat_no
      LIMIT $3`,
    [eventId, section ?? null, quantity, exclude],
  );
  return rows.map((r) => r.seat_id);
}

async function unknownAmong(client: PoolClient, eventId: string, seatIds: string[]): Promise<string[]> {
  const { rows } = await client.query<{ seat_id: string }>('SELECT seat_id FROM seats WHERE event_id = $1 AND seat_id = ANY($2::text[])', [
    eventId,
    seatIds,
  ]);
  const known = new Set(rows.map((r) => r.seat_id));
  return seatIds.filter((id) => !known.has(id));
}

export interface ReserveInput {
  holdId: string;
  eventId: string;
  buyerId: string;
  checkoutId: string;
  request: HoldRequest;
  /** Extra seconds the database keeps the hold beyond its window, for a payment in flight. */
  graceSeconds: number;
}

const BEST_ATTEMPTS = 6;

/**
 * Reserves seats for a hold, all or nothing, in one transaction. Idempotent:
 * called again with the same hold id it returns the hold it made.
 */
export async function reserveSeats(
  client: PoolClient,
  input: ReserveInput,
): Promise<{ hold: Reservation; changes: SeatChange[]; replayed: boolean }> {
  const existing = await client.query<{ seat_ids: string[]; amount_cents: number; expires_at: Date; hold_seconds: number }>(
    `SELECT h.seat_ids, h.amount_cents, h.expires_at, e.hold_seconds
       FROM holds h JOIN events e ON e.id = h.event_id WHERE h.id = $1`,
    [input.holdId],
  );
  if (existing.rows[0]) {
    const h = existing.rows[0];
    return {
      hold: {
        holdId: input.holdId,
        seatIds: h.seat_ids,
        amountCents: h.amount_cents,
        holdSeconds: h.hold_seconds,
        dbExpiresAt: h.expires_at.toISOString(),
      },
      changes: [],
      replayed: true,
    };
  }

  const terms = await lockSaleTerms(client, input.eventId);
  if (terms.state !== 'open' || !terms.onSaleNow) {
    throw new DomainError('EVENT_NOT_ON_SALE', 'this event is not on sale right now', { state: terms.state });
  }
  const { request } = input;
  const wanted = request.kind === 'seats' ? request.seatIds.length : request.quantity;
  const bought = await seatsAlreadyBought(client, input.eventId, input.buyerId);
  if (bought + wanted > terms.maxSeatsPerBuyer) {
    throw new DomainError('LIMIT_EXCEEDED', `at most ${terms.maxSeatsPerBuyer} seats per buyer for this event`, {
      maxSeatsPerBuyer: terms.maxSeatsPerBuyer,
      alreadyBought: bought,
      requested: wanted,
    });
  }

  const lifetime = terms.holdSeconds + input.graceSeconds;
  let result: TakeResult | null = null;

  if (request.kind === 'seats') {
    await client.query('SAVEPOINT take');
    const attempt = await takeSeats(client, input.eventId, request.seatIds, input.holdId, input.buyerId, lifetime);
    if (attempt.taken.length === request.seatIds.length) {
      result = attempt;
    } else {
      await client.query('ROLLBACK TO SAVEPOINT take');
      // Only a refused request pays for finding out why.
      const unknown = await unknownAmong(client, input.eventId, request.seatIds);
      if (unknown.length) throw new DomainError('NOT_FOUND', 'unknown seats for this event', { seatIds: unknown });
      const got = new Set(attempt.taken.map((t) => t.seatId));
      throw new DomainError('SEATS_UNAVAILABLE', 'some of these seats are not available', {
        seatIds: request.seatIds.filter((id) => !got.has(id)),
      });
    }
  } else {
    if (request.section) {
      const { rowCount } = await client.query('SELECT 1 FROM sections WHERE event_id = $1 AND id = $2', [input.eventId, request.section]);
      if (!rowCount) throw new DomainError('NOT_FOUND', `unknown section ${request.section}`, { section: request.section });
    }
    const tried: string[] = [];
    for (let attempt = 0; attempt < BEST_ATTEMPTS && !result; attempt++) {
      const islands = await bestIslands(client, input.eventId, request.quantity, request.section, tried);
      // Spread concurrent buyers over the few best blocks instead of all racing for the first.
      const island = islands[attempt % Math.max(1, Math.min(islands.length, 3))];
      const seatIds = island
        ? chooseBlock(island, request.quantity)
        : await bestScattered(client, input.eventId, request.quantity, request.section, tried);
      if (seatIds.length < request.quantity) break;
      await client.query('SAVEPOINT take');
      const taken = await takeSeats(client, input.eventId, seatIds, input.holdId, input.buyerId, lifetime);
      if (taken.taken.length === request.quantity) {
        result = taken;
      } else {
        await client.query('ROLLBACK TO SAVEPOINT take');
        tried.push(...seatIds);
      }
    }
    if (!result) {
      throw new DomainError('SEATS_UNAVAILABLE', `${request.quantity} seats are not available together`, {
        quantity: request.quantity,
        section: request.section ?? null,
      });
    }
  }

  if (result.displacedHolds.length) {
    await client.query(
      `UPDATE holds SET status = 'expired', ended_at = clock_timestamp() WHERE id = ANY($1::text[]) AND status = 'active'`,
      [result.displacedHolds],
    );
  }
  const seatIds = result.taken.map((t) => t.seatId).sort();
  const amountCents = result.taken.reduce((sum, t) => sum + t.priceCents, 0);
  const { rows } = await client.query<{ expires_at: Date }>(
    `INSERT INTO holds (id, event_id, buyer_id, checkout_id, seat_ids, amount_cents, expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7), clock_timestamp()) RETURNING expires_at`,
    [input.holdId, input.eventId, input.buyerId, input.checkoutId, seatIds, amountCents, lifetime],
  );
  return {
    hold: {
      holdId: input.holdId,
      seatIds,
      amountCents,
      holdSeconds: terms.holdSeconds,
      dbExpiresAt: rows[0]!.expires_at.toISOString(),
    },
    changes: result.taken.map((t) => ({ seatId: t.seatId, status: 'held' as const, version: t.version })),
    replayed: false,
  };
}

/** Returns a hold's seats to sale. Idempotent: seats no longer held by this hold are untouched. */
export async function releaseHold(client: PoolClient, holdId: string, outcome: 'released' | 'expired'): Promise<SeatChange[]> {
  const { rows } = await client.query<{ seat_id: string; version: string }>(
    `UPDATE seats SET status = 'available', hold_id = NULL, holder = NULL, hold_expires_at = NULL,
                      version = nextval('seat_version_seq')
      WHERE hold_id = $1 AND status = 'held'
     RETURNING seat_id, version`,
    [holdId],
  );
  await client.query(`UPDATE holds SET status = $2, ended_at = clock_timestamp() WHERE id = $1 AND status = 'active'`, [holdId, outcome]);
  return rows.map((r) => ({ seatId: r.seat_id, status: 'available', version: Number(r.version) }));
}

/**
 * Marks a hold's seats sold to the order. Returns null when the hold no longer
 * owns every one of its seats (the caller rolls back and compensates).
 */
export async function sellHeldSeats(client: PoolClient, holdId: string, orderId: string, expected: string[]): Promise<SeatChange[] | null> {
  const { rows } = await client.query<{ seat_id: string; version: string }>(
    `UPDATE seats SET status = 'sold', order_id = $2, hold_expires_at = NULL, version = nextval('seat_version_seq')
      WHERE hold_id = $1 AND status = 'held' AND seat_id = ANY($3::text[])
     RETURNING seat_id, version`,
    [holdId, orderId, expected],
  );
  if (rows.length !== expected.length) return null;
  return rows.map((r) => ({ seatId: r.seat_id, status: 'sold', version: Number(r.version) }));
}

/** The whole seat map as the source of truth sees it; expired holds count as available. */
export async function loadSeatMap(client: Pick<PoolClient, 'query'>, eventId: string): Promise<VersionedSeat[]> {
  const { rows } = await client.query<{
    seat_id: string;
    section_id: string;
    row_no: number;
    seat_no: number;
    price_cents: number;
    status: SeatStatus;
    version: string;
  }>(
    `SELECT s.seat_id, s.section_id, s.row_no, s.seat_no, s.price_cents, s.version,
            CASE WHEN s.status = 'held' AND s.hold_expires_at < now() THEN 'available' ELSE s.status END AS status
       FROM seats s JOIN sections sec ON sec.event_id = s.event_id AND sec.id = s.section_id
      WHERE s.event_id = $1
      ORDER BY sec.rank, s.row_no, s.seat_no`,
    [eventId],
  );
  return rows.map((r) => ({
    seatId: r.seat_id,
    section: r.section_id,
    row: r.row_no,
    number: r.seat_no,
    priceCents: r.price_cents,
    status: r.status,
    version: Number(r.version),
  }));
}

/** Creates every seat of an event's sections, all available at version 0. Answers how many. */
export async function insertSeatsForSections(client: Pick<PoolClient, 'query'>, eventId: string): Promise<number> {
  const { rowCount } = await client.query(
    `INSERT INTO seats (event_id, seat_id, section_id, row_no, seat_no, price_cents)
     SELECT s.event_id, s.id || '-' || r || '-' || n, s.id, r, n, s.price_cents
       FROM sections s
       CROSS JOIN LATERAL generate_series(1, s.rows) AS r
       CROSS JOIN LATERAL generate_series(1, s.seats_per_row) AS n
      WHERE s.event_id = $1`,
    [eventId],
  );
  return rowCount ?? 0;
}

export interface SeatLoad {
  available: number;
  held: number;
  activeHolds: number;
}

/** Free and held seats and live holds of an event, as the source of truth counts them. */
export async function countSeatLoad(client: Pick<PoolClient, 'query'>, eventId: string): Promise<SeatLoad> {
  const { rows } = await client.query<{ available: number; held: number; holds: number }>(
    `SELECT count(*) FILTER (WHERE status = 'available' OR (status = 'held' AND hold_expires_at < now()))::int AS available,
            count(*) FILTER (WHERE status = 'held' AND hold_expires_at >= now())::int AS held,
            (SELECT count(*)::int FROM holds WHERE event_id = $1 AND status = 'active' AND expires_at >= now()) AS holds
       FROM seats WHERE event_id = $1`,
    [eventId],
  );
  const r = rows[0]!;
  return { available: r.available, held: r.held, activeHolds: r.holds };
}

/**
 * Puts a refunded order's seats back on sale and frees them from order_seats,
 * whose key would otherwise forbid selling them again. Idempotent: seats no
 * longer sold to this order are untouched. Run in the transaction that marks
 * the order refunded.
 */
export async function returnOrderSeats(
  client: Pick<PoolClient, 'query'>,
  order: { orderId: string; eventId: string; seatIds: string[] },
): Promise<SeatChange[]> {
  const { rows } = await client.query<{ seat_id: string; version: string }>(
    `UPDATE seats SET status = 'available', hold_id = NULL, holder = NULL, hold_expires_at = NULL, order_id = NULL,
                      version = nextval('seat_version_seq')
      WHERE event_id = $1 AND seat_id = ANY($2::text[]) AND order_id = $3 AND status = 'sold'
     RETURNING seat_id, version`,
    [order.eventId, order.seatIds, order.orderId],
  );
  await client.query('DELETE FROM order_seats WHERE event_id = $1 AND seat_id = ANY($2::text[]) AND order_id = $3', [
    order.eventId,
    order.seatIds,
    order.orderId,
  ]);
  return rows.map((r) => ({ seatId: r.seat_id, status: 'available', version: Number(r.version) }));
}
