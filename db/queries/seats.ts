/**
 * Every write to `seats` lives here. Each is a conditional update keyed by hold
 * id, so a retried activity cannot double-act, and the table's constraints make
 * overselling impossible whatever the caller does.
 */
import type { PoolClient } from 'pg';
import { checkoutInProgress, DomainError } from '../../domain/errors';
import type { HoldRequest, Reservation } from '../../domain/checkout';
import type { SeatChange, SeatStatus, VersionedSeat } from '../../domain/seats';

/*
 * A seat is free when available, or held by a hold whose window (plus grace) has passed.
 * Holds record clock_timestamp(), not the transaction's start, as the moments they took and
 * gave back their seats, so the holds table is an exact timeline of every seat.
 */

export interface ReserveInput {
  holdId: string;
  eventId: string;
  buyerId: string;
  checkoutId: string;
  request: HoldRequest;
  /** Extra seconds the database keeps the hold beyond its window, for a payment in flight. */
  graceSeconds: number;
  /** A reservation that would commit after this moment is refused (nobody is waiting for it any more). */
  deadline?: Date;
}

/** What the reserve answered, and the database's clock when it answered (for the workflow's timer). */
export interface ReserveResult {
  hold: Reservation;
  changes: SeatChange[];
  replayed: boolean;
  /** The database's clock when the hold was recorded: `dbExpiresAt - dbNow` is the time left by its own clock. */
  dbNow: Date;
}

interface ReserveRow {
  o_outcome: string;
  o_seat_ids: string[] | null;
  o_versions: string[] | null;
  o_amount_cents: number | null;
  o_hold_seconds: number | null;
  o_expires_at: Date | null;
  o_db_now: Date | null;
  o_detail: Record<string, unknown> | null;
}

/**
 * Reserves seats for a hold, all or nothing, in one round trip: the
 * reserve_hold() function (migrations 0003, 0008, 0009, 0014) checks idempotency by
 * hold id, the sale's terms, the per-buyer limit and, for a verified person,
 * the seats of all their accounts, and takes the seats conditionally.
 * Idempotent: called again with the same hold id it answers the hold it made.
 * Needs no transaction of its own: the single statement is one.
 *
 * A named prepared statement: parsed once per connection. The function
 * itself plans each of its statements once per connection (migration 0011).
 */
const RESERVE = 'SELECT * FROM reserve_hold($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)';

export async function reserveSeats(client: Pick<PoolClient, 'query'>, input: ReserveInput): Promise<ReserveResult> {
  const { request } = input;
  const { rows } = await client.query<ReserveRow>({
    name: 'reserve_hold',
    text: RESERVE,
    values: [
      input.holdId,
      input.eventId,
      input.buyerId,
      input.checkoutId,
      request.kind === 'seats' ? request.seatIds : null,
      request.kind === 'best' ? request.quantity : null,
      request.kind === 'best' ? (request.section ?? null) : null,
      input.graceSeconds,
      input.deadline ?? null,
      request.verifiedIdentity ?? null,
      request.maxSeats ?? null,
    ],
  });
  const r = rows[0]!;
  const detail = r.o_detail ?? {};
  switch (r.o_outcome) {
    case 'held':
    case 'replayed': {
      const seatIds = r.o_seat_ids!;
      const versions = r.o_versions ?? [];
      return {
        hold: {
          holdId: input.holdId,
          seatIds,
          amountCents: r.o_amount_cents!,
          holdSeconds: r.o_hold_seconds!,
          dbExpiresAt: r.o_expires_at!.toISOString(),
        },
        changes: versions.map((v, i) => ({ seatId: seatIds[i]!, status: 'held' as const, version: Number(v) })),
        replayed: r.o_outcome === 'replayed',
        dbNow: r.o_db_now!,
      };
    }
    case 'event_not_found':
      throw new DomainError('NOT_FOUND', `event ${input.eventId} does not exist`);
    case 'not_on_sale':
      throw new DomainError('EVENT_NOT_ON_SALE', 'this event is not on sale right now', detail);
    case 'limit_exceeded':
      throw new DomainError(
        'LIMIT_EXCEEDED',
        detail.reason === 'seats_per_identity'
          ? `at most ${String(detail.maxSeatsPerBuyer)} seats per person for this event, across all of their accounts`
          : `at most ${String(detail.maxSeatsPerBuyer)} seats per buyer for this event`,
        detail,
      );
    case 'checkout_in_progress':
      throw checkoutInProgress(detail);
    case 'unknown_seats':
      throw new DomainError('NOT_FOUND', 'unknown seats for this event', detail);
    case 'unknown_section':
      throw new DomainError('NOT_FOUND', `unknown section ${String(detail.section)}`, detail);
    case 'unavailable':
      throw new DomainError(
        'SEATS_UNAVAILABLE',
        request.kind === 'seats' ? 'some of these seats are not available' : `${request.quantity} seats are not available together`,
        detail,
      );
    default:
      throw new Error(`reserve_hold answered an unknown outcome ${r.o_outcome}`);
  }
}

/** Returns a hold's seats to sale. Idempotent: seats no longer held by this hold are untouched. */
export async function releaseHold(
  client: Pick<PoolClient, 'query'>,
  holdId: string,
  outcome: 'released' | 'expired',
): Promise<SeatChange[]> {
  // One statement: the seats and the hold record change together, in one round trip.
  const { rows } = await client.query<{ seat_id: string; version: string }>(
    `WITH freed AS (
       UPDATE seats SET status = 'available', hold_id = NULL, holder = NULL, hold_expires_at = NULL,
                        version = nextval('seat_version_seq')
        WHERE hold_id = $1 AND status = 'held'
       RETURNING seat_id, version),
     ended AS (
       UPDATE holds SET status = $2, ended_at = clock_timestamp() WHERE id = $1 AND status = 'active' RETURNING id)
     SELECT seat_id, version FROM freed`,
    [holdId, outcome],
  );
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

export interface ClaimState {
  /** The event's sections in best-first order (rank). */
  sections: { id: string; rows: number; seatsPerRow: number }[];
  /** Seats not free: sold, or held by a live hold (with the hold's owner and end). */
  taken: { seatId: string; status: 'held' | 'sold'; holdId: string | null; expiresAtMs: number }[];
}

/** What the Redis claim gate needs to rebuild itself: the layout and every seat that is not free. */
export async function loadClaimState(client: Pick<PoolClient, 'query'>, eventId: string): Promise<ClaimState> {
  const [sections, taken] = await Promise.all([
    client.query<{ id: string; rows: number; seats_per_row: number }>(
      'SELECT id, rows, seats_per_row FROM sections WHERE event_id = $1 ORDER BY rank, id',
      [eventId],
    ),
    client.query<{ seat_id: string; status: 'held' | 'sold'; hold_id: string | null; expires_ms: string | null }>(
      `SELECT seat_id, status, hold_id, (extract(epoch FROM hold_expires_at) * 1000)::bigint AS expires_ms
         FROM seats WHERE event_id = $1 AND (status = 'sold' OR (status = 'held' AND hold_expires_at >= now()))`,
      [eventId],
    ),
  ]);
  return {
    sections: sections.rows.map((s) => ({ id: s.id, rows: s.rows, seatsPerRow: s.seats_per_row })),
    taken: taken.rows.map((t) => ({ seatId: t.seat_id, status: t.status, holdId: t.hold_id, expiresAtMs: Number(t.expires_ms ?? 0) })),
  };
}

/** Live holds of an event (the indexed count the admission controller falls back to when Redis cannot say). */
export async function countActiveHolds(client: Pick<PoolClient, 'query'>, eventId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM holds WHERE event_id = $1 AND status = 'active' AND expires_at >= now()`,
    [eventId],
  );
  return rows[0]?.n ?? 0;
}

/*
 * Hold lifetimes for payments in flight: extendHoldForPayment changes only
 * `seats.hold_expires_at` of seats the hold already owns (never a seat's
 * status, holder or order), so it cannot move a seat between buyers.
 */
export interface HoldExtension {
  /** True when the hold still owned every one of its seats and now keeps them until `expiresAt`. */
  owned: boolean;
  expiresAt: Date | null;
  /** The extended hold's event and seats, so the claim gate can follow (when owned). */
  eventId: string | null;
  seatIds: string[];
  /** How long the hold now lasts, on the database's clock. */
  remainingMs: number;
}

/**
 * Keeps a hold's seats for at least `seconds` more, in one statement, only if
 * the hold is active and still owns every one of its seats with its window
 * (plus grace) not yet passed. A hold whose seats another buyer took, or that
 * expired in the database, is not extended and nothing should be charged for it.
 * Never shortens a hold.
 */
export async function extendHoldForPayment(client: Pick<PoolClient, 'query'>, holdId: string, seconds: number): Promise<HoldExtension> {
  const { rows } = await client.query<{
    owned: boolean;
    expires_at: Date | null;
    event_id: string | null;
    seat_ids: string[] | null;
    remaining_ms: string | null;
  }>(
    `WITH h AS (
       SELECT id, event_id, seat_ids FROM holds WHERE id = $1 AND status = 'active' FOR UPDATE),
     owned AS (
       SELECT s.seat_id FROM seats s JOIN h ON s.event_id = h.event_id AND s.seat_id = ANY(h.seat_ids)
        WHERE s.hold_id = h.id AND s.status = 'held' AND s.hold_expires_at >= now()
        FOR UPDATE OF s),
     ok AS (SELECT h.* FROM h WHERE (SELECT count(*) FROM owned) = cardinality(h.seat_ids)),
     seats_kept AS (
       UPDATE seats s SET hold_expires_at = greatest(s.hold_expires_at, now() + make_interval(secs => $2))
         FROM ok WHERE s.event_id = ok.event_id AND s.seat_id = ANY(ok.seat_ids) AND s.hold_id = ok.id AND s.status = 'held'
       RETURNING s.seat_id),
     hold_kept AS (
       UPDATE holds SET expires_at = greatest(holds.expires_at, now() + make_interval(secs => $2))
         FROM ok WHERE holds.id = ok.id
       RETURNING holds.expires_at)
     SELECT EXISTS (SELECT 1 FROM ok) AND (SELECT count(*) FROM seats_kept) > 0 AS owned,
            (SELECT expires_at FROM hold_kept) AS expires_at,
            (SELECT event_id FROM ok) AS event_id, (SELECT seat_ids FROM ok) AS seat_ids,
            (SELECT (extract(epoch FROM expires_at - now()) * 1000)::bigint FROM hold_kept) AS remaining_ms`,
    [holdId, seconds],
  );
  const r = rows[0]!;
  return {
    owned: r.owned,
    expiresAt: r.expires_at,
    eventId: r.event_id,
    seatIds: r.seat_ids ?? [],
    remainingMs: Number(r.remaining_ms ?? 0),
  };
}

/** Seats by status for several events in one grouped count; a hold past its window counts as available. */
export async function countSeatsByStatus(
  client: Pick<PoolClient, 'query'>,
  eventIds: string[],
): Promise<Map<string, { available: number; held: number; sold: number }>> {
  const { rows } = await client.query<{ event_id: string; available: number; held: number; sold: number }>(
    `SELECT event_id,
            count(*) FILTER (WHERE status = 'available' OR (status = 'held' AND hold_expires_at < now()))::int AS available,
            count(*) FILTER (WHERE status = 'held' AND hold_expires_at >= now())::int AS held,
            count(*) FILTER (WHERE status = 'sold')::int AS sold
       FROM seats WHERE event_id = ANY($1::text[])
      GROUP BY event_id`,
    [eventIds],
  );
  const out = new Map(eventIds.map((id) => [id, { available: 0, held: 0, sold: 0 }]));
  for (const r of rows) out.set(r.event_id, { available: r.available, held: r.held, sold: r.sold });
  return out;
}
