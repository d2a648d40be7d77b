/**
 * The database audit: the invariants that must hold after any run, whatever
 * failed during it. Each check counts violations; a clean database has none.
 */
import type { Pool } from 'pg';

export interface AuditReport {
  ok: boolean;
  violations: Record<string, number>;
  totals: { seatsSold: number; seatsHeld: number; orders: number; charges: number; refunds: number; declines: number };
}

/** `$1` is an optional list of event ids; null audits the whole database. */
const IN_SCOPE = (alias: string) => `($1::text[] IS NULL OR ${alias}.event_id = ANY($1::text[]))`;

const CHECKS: Record<string, string> = {
  // A sold seat belongs to exactly one confirmed order, and that order lists it.
  soldSeatWithoutOrder: `SELECT count(*) FROM seats s WHERE s.status = 'sold' AND ${IN_SCOPE('s')} AND NOT EXISTS (
      SELECT 1 FROM order_seats os JOIN orders o ON o.id = os.order_id
       WHERE os.event_id = s.event_id AND os.seat_id = s.seat_id AND o.id = s.order_id AND o.status = 'confirmed'
         AND s.seat_id = ANY(o.seat_ids))`,
  orderSeatNotSold: `SELECT count(*) FROM order_seats os JOIN seats s USING (event_id, seat_id)
      WHERE (s.status <> 'sold' OR s.order_id <> os.order_id) AND ${IN_SCOPE('os')}`,
  orderSeatCountMismatch: `SELECT count(*) FROM orders o WHERE ${IN_SCOPE('o')}
      AND cardinality(o.seat_ids) <> (SELECT count(*) FROM order_seats os WHERE os.order_id = o.id)`,
  // Every confirmed order was charged exactly once and the charge stands.
  orderWithoutOneCharge: `SELECT count(*) FROM orders o WHERE ${IN_SCOPE('o')} AND ((
      SELECT count(*) FROM payments p WHERE p.hold_id = o.hold_id AND p.status = 'succeeded') <> 1
      OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = o.payment_id AND p.status = 'succeeded'))`,
  // A successful charge without an order is money kept without seats.
  chargeWithoutOrder: `SELECT count(*) FROM payments p WHERE p.status = 'succeeded' AND ${IN_SCOPE('p')}
      AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.payment_id = p.id)`,
  // At most one charge per hold, whether it stands or was refunded.
  holdChargedTwice: `SELECT count(*) FROM (SELECT p.hold_id FROM payments p WHERE p.status IN ('succeeded', 'refunded')
      AND ${IN_SCOPE('p')} GROUP BY p.hold_id HAVING count(*) > 1) x`,
  refundedChargeWithOrder: `SELECT count(*) FROM payments p WHERE p.status = 'refunded' AND ${IN_SCOPE('p')}
      AND EXISTS (SELECT 1 FROM orders o WHERE o.payment_id = p.id)`,
  // A seat's hold must be the hold row that claims it.
  heldSeatWithoutActiveHold: `SELECT count(*) FROM seats s WHERE s.status = 'held' AND ${IN_SCOPE('s')} AND NOT EXISTS (
      SELECT 1 FROM holds h WHERE h.id = s.hold_id AND h.status = 'active' AND s.seat_id = ANY(h.seat_ids))
      AND s.hold_expires_at > now()`,
  seatInTwoActiveHolds: `SELECT count(*) FROM (SELECT h.event_id, unnest(h.seat_ids) AS seat_id FROM holds h
      JOIN seats s ON s.hold_id = h.id WHERE h.status = 'active' AND ${IN_SCOPE('h')} GROUP BY 1, 2 HAVING count(DISTINCT h.id) > 1) x`,
};

/** Once the system is back: work that should have finished more than `staleSeconds` ago. */
const settledChecks = (staleSeconds: number): Record<string, string> => {
  const age = `make_interval(secs => ${Number(staleSeconds)})`;
  return {
    // A held seat past its window: a release that never happened.
    staleHold: `SELECT count(*) FROM seats s WHERE s.status = 'held' AND ${IN_SCOPE('s')} AND s.hold_expires_at < now() - ${age}`,
    activeHoldPastWindow: `SELECT count(*) FROM holds h WHERE h.status = 'active' AND ${IN_SCOPE('h')} AND h.expires_at < now() - ${age}`,
    paymentLeftPending: `SELECT count(*) FROM payments p WHERE p.status = 'pending' AND ${IN_SCOPE('p')} AND p.updated_at < now() - ${age}`,
  };
};

export async function auditDatabase(pool: Pool, opts: { eventIds?: string[]; staleHoldSeconds?: number } = {}): Promise<AuditReport> {
  const violations: Record<string, number> = {};
  const queries = { ...CHECKS, ...(opts.staleHoldSeconds !== undefined && settledChecks(opts.staleHoldSeconds)) };
  for (const [name, sql] of Object.entries(queries)) {
    const { rows } = await pool.query<{ count: string }>(sql, [opts.eventIds ?? null]);
    violations[name] = Number(rows[0]!.count);
  }
  const { rows } = await pool.query<Record<string, string>>(
    `SELECT
      (SELECT count(*) FROM seats s WHERE s.status = 'sold' AND ${IN_SCOPE('s')}) AS seats_sold,
      (SELECT count(*) FROM seats s WHERE s.status = 'held' AND ${IN_SCOPE('s')}) AS seats_held,
      (SELECT count(*) FROM orders o WHERE ${IN_SCOPE('o')}) AS orders,
      (SELECT count(*) FROM payments p WHERE p.status IN ('succeeded', 'refunded') AND ${IN_SCOPE('p')}) AS charges,
      (SELECT count(*) FROM payments p WHERE p.status = 'refunded' AND ${IN_SCOPE('p')}) AS refunds,
      (SELECT count(*) FROM payments p WHERE p.status = 'declined' AND ${IN_SCOPE('p')}) AS declines`,
    [opts.eventIds ?? null],
  );
  const t = rows[0]!;
  return {
    ok: Object.values(violations).every((n) => n === 0),
    violations,
    totals: {
      seatsSold: Number(t.seats_sold),
      seatsHeld: Number(t.seats_held),
      orders: Number(t.orders),
      charges: Number(t.charges),
      refunds: Number(t.refunds),
      declines: Number(t.declines),
    },
  };
}

/** A fingerprint of everything a request could change, to prove a rejected request changed nothing. */
export async function stateFingerprint(pool: Pool, eventId: string): Promise<string> {
  const { rows } = await pool.query<{ f: string }>(
    `SELECT md5(concat_ws('|',
        (SELECT string_agg(seat_id || status || coalesce(hold_id, '') || coalesce(order_id, ''), ',' ORDER BY seat_id)
           FROM seats WHERE event_id = $1),
        (SELECT string_agg(id || status, ',' ORDER BY id) FROM holds WHERE event_id = $1),
        (SELECT string_agg(id, ',' ORDER BY id) FROM orders WHERE event_id = $1),
        (SELECT string_agg(id || status, ',' ORDER BY id) FROM payments WHERE event_id = $1),
        (SELECT state FROM events WHERE id = $1))) AS f`,
    [eventId],
  );
  return rows[0]!.f;
}
