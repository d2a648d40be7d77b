import type { PoolClient } from 'pg';

export type OrderStatus = 'confirmed' | 'refunded';

export interface OrderRow {
  orderId: string;
  eventId: string;
  buyerId: string;
  holdId: string;
  paymentId: string;
  status: OrderStatus;
  seatIds: string[];
  amountCents: number;
  createdAt: Date;
}

interface RawOrder {
  id: string;
  event_id: string;
  buyer_id: string;
  hold_id: string;
  payment_id: string;
  status: OrderStatus;
  seat_ids: string[];
  amount_cents: number;
  created_at: Date;
}

const toOrder = (r: RawOrder): OrderRow => ({
  orderId: r.id,
  eventId: r.event_id,
  buyerId: r.buyer_id,
  holdId: r.hold_id,
  paymentId: r.payment_id,
  status: r.status,
  seatIds: r.seat_ids,
  amountCents: r.amount_cents,
  createdAt: r.created_at,
});

const COLUMNS = 'id, event_id, buyer_id, hold_id, payment_id, status, seat_ids, amount_cents, created_at';

export async function findOrder(client: Pick<PoolClient, 'query'>, orderId: string): Promise<OrderRow | null> {
  const { rows } = await client.query<RawOrder>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [orderId]);
  return rows[0] ? toOrder(rows[0]) : null;
}

export async function findOrderByHold(client: Pick<PoolClient, 'query'>, holdId: string): Promise<OrderRow | null> {
  const { rows } = await client.query<RawOrder>(`SELECT ${COLUMNS} FROM orders WHERE hold_id = $1`, [holdId]);
  return rows[0] ? toOrder(rows[0]) : null;
}

/** Inserts the order and claims each of its seats in order_seats, whose key forbids a second sale. */
export async function insertOrder(
  client: Pick<PoolClient, 'query'>,
  o: { orderId: string; eventId: string; buyerId: string; holdId: string; paymentId: string; seatIds: string[]; amountCents: number },
): Promise<OrderRow> {
  const { rows } = await client.query<RawOrder>(
    `INSERT INTO orders (id, event_id, buyer_id, hold_id, payment_id, status, seat_ids, amount_cents)
     VALUES ($1, $2, $3, $4, $5, 'confirmed', $6, $7) RETURNING ${COLUMNS}`,
    [o.orderId, o.eventId, o.buyerId, o.holdId, o.paymentId, o.seatIds, o.amountCents],
  );
  await client.query(`INSERT INTO order_seats (event_id, seat_id, order_id) SELECT $1, unnest($2::text[]), $3`, [
    o.eventId,
    o.seatIds,
    o.orderId,
  ]);
  await client.query(`UPDATE holds SET status = 'purchased', ended_at = now() WHERE id = $1`, [o.holdId]);
  return toOrder(rows[0]!);
}

export async function findHold(
  client: Pick<PoolClient, 'query'>,
  holdId: string,
): Promise<{
  holdId: string;
  eventId: string;
  buyerId: string;
  checkoutId: string;
  seatIds: string[];
  amountCents: number;
  status: string;
} | null> {
  const { rows } = await client.query<{
    id: string;
    event_id: string;
    buyer_id: string;
    checkout_id: string;
    seat_ids: string[];
    amount_cents: number;
    status: string;
  }>('SELECT id, event_id, buyer_id, checkout_id, seat_ids, amount_cents, status FROM holds WHERE id = $1', [holdId]);
  const r = rows[0];
  return r
    ? {
        holdId: r.id,
        eventId: r.event_id,
        buyerId: r.buyer_id,
        checkoutId: r.checkout_id,
        seatIds: r.seat_ids,
        amountCents: r.amount_cents,
        status: r.status,
      }
    : null;
}

export interface OrderSearch {
  eventId: string;
  status?: OrderStatus;
  buyerId?: string;
  /** Matched case-insensitively against the buyer's e-mail. */
  email?: string;
  after?: { createdAt: string; id: string };
  limit: number;
}

/** An event's orders newest first, with the buyer's e-mail, filtered for support staff. */
export async function searchOrders(
  client: Pick<PoolClient, 'query'>,
  q: OrderSearch,
): Promise<{ orders: (OrderRow & { email: string | null; refundedAt: Date | null })[]; next: { createdAt: string; id: string } | null }> {
  const { rows } = await client.query<RawOrder & { email: string | null; refunded_at: Date | null; created_text: string }>(
    `SELECT o.id, o.event_id, o.buyer_id, o.hold_id, o.payment_id, o.status, o.seat_ids, o.amount_cents, o.created_at,
            o.refunded_at, o.created_at::text AS created_text, b.email
       FROM orders o LEFT JOIN buyers b ON b.id = o.buyer_id
      WHERE o.event_id = $1
        AND ($2::text IS NULL OR o.status = $2)
        AND ($3::text IS NULL OR o.buyer_id = $3)
        AND ($4::text IS NULL OR lower(b.email) = lower($4))
        AND ($5::timestamptz IS NULL OR (o.created_at, o.id) < ($5::timestamptz, $6::text))
      ORDER BY o.created_at DESC, o.id DESC
      LIMIT $7`,
    [q.eventId, q.status ?? null, q.buyerId ?? null, q.email ?? null, q.after?.createdAt ?? null, q.after?.id ?? null, q.limit + 1],
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    orders: page.map((r) => ({ ...toOrder(r), email: r.email, refundedAt: r.refunded_at })),
    next: rows.length > q.limit && last ? { createdAt: last.created_text, id: last.id } : null,
  };
}

/** Marks a confirmed order refunded; false when it was not confirmed (already refunded, or missing). */
export async function markOrderRefunded(client: Pick<PoolClient, 'query'>, orderId: string): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE orders SET status = 'refunded', refunded_at = now() WHERE id = $1 AND status = 'confirmed'`,
    [orderId],
  );
  return (rowCount ?? 0) > 0;
}
