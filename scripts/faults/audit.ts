/**
 * The audit, scoped to the events a scenario sold: other test runs
 * share the database, so a global audit would judge their in-flight work too.
 * The checks are those of db/audit.ts (auditDatabase), restricted by event,
 * plus the provider's view: every charge that reached the payment provider
 * belongs to exactly one payment row, and no hold was charged twice.
 */
import type { Pool } from 'pg';

export interface ScopedAudit {
  ok: boolean;
  violations: Record<string, number>;
  totals: { seatsSold: number; seatsHeld: number; orders: number; charges: number; refunds: number; declines: number };
}

const CHECKS: Record<string, string> = {
  soldSeatWithoutOrder: `SELECT count(*) FROM seats s WHERE s.event_id = ANY($1) AND s.status = 'sold' AND NOT EXISTS (
      SELECT 1 FROM order_seats os JOIN orders o ON o.id = os.order_id
       WHERE os.event_id = s.event_id AND os.seat_id = s.seat_id AND o.id = s.order_id AND o.status = 'confirmed'
         AND s.seat_id = ANY(o.seat_ids))`,
  orderSeatNotSold: `SELECT count(*) FROM order_seats os JOIN seats s USING (event_id, seat_id)
      WHERE os.event_id = ANY($1) AND (s.status <> 'sold' OR s.order_id <> os.order_id)`,
  orderSeatCountMismatch: `SELECT count(*) FROM orders o WHERE o.event_id = ANY($1)
      AND cardinality(o.seat_ids) <> (SELECT count(*) FROM order_seats os WHERE os.order_id = o.id)`,
  orderWithoutOneCharge: `SELECT count(*) FROM orders o WHERE o.event_id = ANY($1) AND ((
      SELECT count(*) FROM payments p WHERE p.hold_id = o.hold_id AND p.status = 'succeeded') <> 1
      OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = o.payment_id AND p.status = 'succeeded'))`,
  chargeWithoutOrder: `SELECT count(*) FROM payments p WHERE p.event_id = ANY($1) AND p.status = 'succeeded'
      AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.payment_id = p.id)`,
  holdChargedTwice: `SELECT count(*) FROM (SELECT hold_id FROM payments WHERE event_id = ANY($1)
      AND status IN ('succeeded', 'refunded') GROUP BY hold_id HAVING count(*) > 1) x`,
  paymentLeftPending: `SELECT count(*) FROM payments WHERE event_id = ANY($1) AND status = 'pending'`,
  heldSeatWithoutActiveHold: `SELECT count(*) FROM seats s WHERE s.event_id = ANY($1) AND s.status = 'held' AND NOT EXISTS (
      SELECT 1 FROM holds h WHERE h.id = s.hold_id AND h.status = 'active' AND s.seat_id = ANY(h.seat_ids))`,
  seatInTwoActiveHolds: `SELECT count(*) FROM (SELECT h.event_id, unnest(h.seat_ids) AS seat_id FROM holds h
      WHERE h.event_id = ANY($1) AND h.status = 'active' GROUP BY 1, 2 HAVING count(DISTINCT h.id) > 1) x`,
  staleHold: `SELECT count(*) FROM seats WHERE event_id = ANY($1) AND status = 'held'
      AND hold_expires_at < now() - make_interval(secs => $2)`,
  activeHoldPastWindow: `SELECT count(*) FROM holds WHERE event_id = ANY($1) AND status = 'active'
      AND expires_at < now() - make_interval(secs => $2)`,
};

export async function auditEvents(pool: Pool, eventIds: string[], staleHoldSeconds = 10): Promise<ScopedAudit> {
  const violations: Record<string, number> = {};
  for (const [name, sql] of Object.entries(CHECKS)) {
    const params = sql.includes('$2') ? [eventIds, staleHoldSeconds] : [eventIds];
    const { rows } = await pool.query<{ count: string }>(sql, params);
    violations[name] = Number(rows[0]!.count);
  }
  const { rows } = await pool.query<Record<string, string>>(
    `SELECT
      (SELECT count(*) FROM seats WHERE event_id = ANY($1) AND status = 'sold') AS seats_sold,
      (SELECT count(*) FROM seats WHERE event_id = ANY($1) AND status = 'held') AS seats_held,
      (SELECT count(*) FROM orders WHERE event_id = ANY($1)) AS orders,
      (SELECT count(*) FROM payments WHERE event_id = ANY($1) AND status IN ('succeeded', 'refunded')) AS charges,
      (SELECT count(*) FROM payments WHERE event_id = ANY($1) AND status = 'refunded') AS refunds,
      (SELECT count(*) FROM payments WHERE event_id = ANY($1) AND status = 'declined') AS declines`,
    [eventIds],
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

/**
 * The provider's side of "charged at most once": each idempotency key that
 * the provider accepted maps to one payment row of these events, and the
 * number of such keys equals the charges the database knows of. (stripe-mock
 * does not replay idempotent requests as Stripe does, so each accepted key is
 * counted once, as Stripe would charge it once.)
 */
export async function providerChargesMatch(
  pool: Pool,
  eventIds: string[],
  chargedKeys: Set<string>,
): Promise<{ ok: boolean; providerCharges: number; databaseCharges: number; unknownKeys: number }> {
  const { rows } = await pool.query<{ idempotency_key: string; status: string }>(
    `SELECT idempotency_key, status FROM payments WHERE event_id = ANY($1)`,
    [eventIds],
  );
  const byKey = new Map(rows.map((r) => [r.idempotency_key, r.status]));
  const unknownKeys = [...chargedKeys].filter((k) => !byKey.has(k)).length;
  const databaseCharges = rows.filter((r) => r.status === 'succeeded' || r.status === 'refunded').length;
  const notSettledAsCharged = [...chargedKeys].filter((k) => byKey.has(k) && !['succeeded', 'refunded'].includes(byKey.get(k)!)).length;
  return {
    ok: unknownKeys === 0 && notSettledAsCharged === 0 && chargedKeys.size === databaseCharges,
    providerCharges: chargedKeys.size,
    databaseCharges,
    unknownKeys,
  };
}
