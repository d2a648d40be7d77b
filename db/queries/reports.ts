/** Read-only aggregates for support staff and organisers. */
import type { Pool } from 'pg';

export interface EventTally {
  holds: Record<'active' | 'purchased' | 'released' | 'expired', number>;
  orders: { count: number; seats: number; revenueCents: number };
  payments: Record<'pending' | 'succeeded' | 'declined' | 'refunded', number>;
}

/** Read-only aggregates for support; the seat counts themselves come from the seat cache. */
export async function tallyEvent(pool: Pick<Pool, 'query'>, eventId: string): Promise<EventTally> {
  const [holds, orders, payments] = await Promise.all([
    pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM holds WHERE event_id = $1 GROUP BY status', [
      eventId,
    ]),
    pool.query<{ count: number; seats: number; revenue: string }>(
      `SELECT count(*)::int AS count, coalesce(sum(cardinality(seat_ids)), 0)::int AS seats,
              coalesce(sum(amount_cents), 0)::bigint AS revenue
         FROM orders WHERE event_id = $1`,
      [eventId],
    ),
    pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM payments WHERE event_id = $1 GROUP BY status', [
      eventId,
    ]),
  ]);
  const by = <K extends string>(rows: { status: string; n: number }[], keys: readonly K[]) =>
    Object.fromEntries(keys.map((k) => [k, rows.find((r) => r.status === k)?.n ?? 0])) as Record<K, number>;
  const o = orders.rows[0]!;
  return {
    holds: by(holds.rows, ['active', 'purchased', 'released', 'expired'] as const),
    orders: { count: o.count, seats: o.seats, revenueCents: Number(o.revenue) },
    payments: by(payments.rows, ['pending', 'succeeded', 'declined', 'refunded'] as const),
  };
}

/** An event's most recent holds with their order, newest first. */
export async function recentCheckouts(pool: Pick<Pool, 'query'>, eventId: string, limit: number) {
  if (limit === 0) return [];
  const { rows } = await pool.query<{
    hold_id: string;
    buyer_id: string;
    checkout_id: string;
    status: string;
    seat_ids: string[];
    amount_cents: number;
    expires_at: Date;
    created_at: Date;
    order_id: string | null;
  }>(
    `SELECT h.id AS hold_id, h.buyer_id, h.checkout_id, h.status, h.seat_ids, h.amount_cents, h.expires_at,
            h.created_at, o.id AS order_id
       FROM holds h LEFT JOIN orders o ON o.hold_id = h.id
      WHERE h.event_id = $1
      ORDER BY h.created_at DESC
      LIMIT $2`,
    [eventId, limit],
  );
  return rows;
}

export interface EventActivity {
  activeHolds: number;
  seatsSold: number;
  orders: number;
  revenueCents: number;
  refunds: number;
}

/** The cumulative figures an organiser's dashboard samples every few seconds; rates come from successive samples. */
export async function eventActivity(pool: Pick<Pool, 'query'>, eventId: string): Promise<EventActivity> {
  const { rows } = await pool.query<{ holds: number; seats: number; orders: number; revenue: string; refunds: number }>(
    `SELECT (SELECT count(*)::int FROM holds WHERE event_id = $1 AND status = 'active' AND expires_at >= now()) AS holds,
            coalesce(sum(cardinality(o.seat_ids)) FILTER (WHERE o.status = 'confirmed'), 0)::int AS seats,
            (count(*) FILTER (WHERE o.status = 'confirmed'))::int AS orders,
            coalesce(sum(o.amount_cents) FILTER (WHERE o.status = 'confirmed'), 0)::bigint AS revenue,
            (count(*) FILTER (WHERE o.status = 'refunded'))::int AS refunds
       FROM orders o WHERE o.event_id = $1`,
    [eventId],
  );
  const r = rows[0]!;
  return { activeHolds: r.holds, seatsSold: r.seats, orders: r.orders, revenueCents: Number(r.revenue), refunds: r.refunds };
}
