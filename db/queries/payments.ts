import type { PoolClient } from 'pg';

export type PaymentStatus = 'pending' | 'succeeded' | 'declined' | 'refunded';

export interface PaymentRow {
  id: string;
  idempotencyKey: string;
  checkoutId: string;
  eventId: string;
  buyerId: string;
  holdId: string;
  provider: string;
  providerRef: string | null;
  amountCents: number;
  status: PaymentStatus;
  declineCode: string | null;
  refundRef: string | null;
  refundRequestedAt: Date | null;
}

interface RawPayment {
  id: string;
  idempotency_key: string;
  checkout_id: string;
  event_id: string;
  buyer_id: string;
  hold_id: string;
  provider: string;
  provider_ref: string | null;
  amount_cents: number;
  status: PaymentStatus;
  decline_code: string | null;
  refund_ref: string | null;
  refund_requested_at: Date | null;
}

const toPayment = (r: RawPayment): PaymentRow => ({
  id: r.id,
  idempotencyKey: r.idempotency_key,
  checkoutId: r.checkout_id,
  eventId: r.event_id,
  buyerId: r.buyer_id,
  holdId: r.hold_id,
  provider: r.provider,
  providerRef: r.provider_ref,
  amountCents: r.amount_cents,
  status: r.status,
  declineCode: r.decline_code,
  refundRef: r.refund_ref,
  refundRequestedAt: r.refund_requested_at,
});

const COLUMNS =
  'id, idempotency_key, checkout_id, event_id, buyer_id, hold_id, provider, provider_ref, amount_cents, status, decline_code, refund_ref, refund_requested_at';

/** Records a payment attempt before the provider is called; a retry finds the same row. */
export async function beginPayment(
  client: Pick<PoolClient, 'query'>,
  p: {
    id: string;
    idempotencyKey: string;
    checkoutId: string;
    holdId: string;
    eventId: string;
    buyerId: string;
    provider: string;
    amountCents: number;
    currency: string;
  },
): Promise<PaymentRow> {
  await client.query(
    `INSERT INTO payments (id, idempotency_key, checkout_id, hold_id, event_id, buyer_id, provider,
                           amount_cents, currency, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending')
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [p.id, p.idempotencyKey, p.checkoutId, p.holdId, p.eventId, p.buyerId, p.provider, p.amountCents, p.currency],
  );
  const { rows } = await client.query<RawPayment>(`SELECT ${COLUMNS} FROM payments WHERE idempotency_key = $1`, [p.idempotencyKey]);
  return toPayment(rows[0]!);
}

/**
 * Records what the provider said of a payment. Pending moves to either outcome;
 * a success also moves a declined row (the provider charged after onsale gave up
 * on it, e.g. a 3-D Secure success racing the cancel), unless another charge of
 * the same hold already stands: the database allows one success per hold, and the
 * caller refunds the late one. Returns the row as it now is.
 */
export async function settlePayment(
  client: Pick<PoolClient, 'query'>,
  id: string,
  outcome: { status: 'succeeded' | 'declined' | 'pending'; providerRef: string | null; declineCode?: string },
): Promise<PaymentRow> {
  try {
    const { rows } = await client.query<RawPayment>(
      `UPDATE payments SET status = $2, provider_ref = COALESCE($3, provider_ref), decline_code = $4, updated_at = now()
        WHERE id = $1 AND (status IN ('pending', $2) OR ($2 = 'succeeded' AND status = 'declined')) RETURNING ${COLUMNS}`,
      [id, outcome.status, outcome.providerRef, outcome.status === 'succeeded' ? null : (outcome.declineCode ?? null)],
    );
    if (rows[0]) return toPayment(rows[0]);
  } catch (err) {
    // payments_one_success_per_hold: another charge of this hold already stands.
    if ((err as { code?: string }).code !== '23505') throw err;
  }
  const current = await findPayment(client, id);
  if (!current) throw new Error(`payment ${id} does not exist`);
  return current;
}

/** Marks a charge refunded at the provider, whatever onsale last believed of it. Idempotent. */
export async function markRefunded(client: Pick<PoolClient, 'query'>, id: string, refundRef: string): Promise<void> {
  await client.query(
    `UPDATE payments SET status = 'refunded', refund_ref = $2, updated_at = now(),
            refund_requested_at = COALESCE(refund_requested_at, now())
      WHERE id = $1 AND status <> 'refunded'`,
    [id, refundRef],
  );
}

/**
 * Claims a payment for refunding, unless it paid for an order. Locks the row, so
 * it serialises with confirmation (lockSucceededPayment): either the order was
 * committed first and this answers it (nothing may be refunded), or the refund is
 * recorded as asked for first and confirmation refuses the payment from then on.
 */
export async function claimForRefund(
  client: Pick<PoolClient, 'query'>,
  id: string,
): Promise<{ payment: PaymentRow; orderId: string | null } | null> {
  const { rows } = await client.query<RawPayment & { order_id: string | null }>(
    `WITH p AS (SELECT ${COLUMNS} FROM payments WHERE id = $1 FOR UPDATE)
     SELECT p.*, (SELECT o.id FROM orders o WHERE o.hold_id = p.hold_id AND o.payment_id = p.id) AS order_id FROM p`,
    [id],
  );
  const r = rows[0];
  if (!r) return null;
  if (r.order_id) return { payment: toPayment(r), orderId: r.order_id };
  const { rows: marked } = await client.query<RawPayment>(
    `UPDATE payments SET refund_requested_at = COALESCE(refund_requested_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return { payment: toPayment(marked[0]!), orderId: null };
}

/** The provider never completed this charge: nothing to refund, so no refund is pending for it. */
export async function settleNeverCharged(client: Pick<PoolClient, 'query'>, id: string, declineCode: string): Promise<void> {
  await client.query(
    `UPDATE payments SET status = CASE WHEN status = 'pending' THEN 'declined' ELSE status END,
            decline_code = CASE WHEN status = 'pending' THEN $2 ELSE decline_code END,
            refund_requested_at = NULL, updated_at = now()
      WHERE id = $1 AND status IN ('pending', 'declined')`,
    [id, declineCode],
  );
}

/** Refunds asked for that have not landed: how many, and how old the oldest is. */
export async function pendingRefunds(client: Pick<PoolClient, 'query'>): Promise<{ count: number; oldestSeconds: number }> {
  const { rows } = await client.query<{ n: number; oldest: number | null }>(
    `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM now() - min(refund_requested_at))::float8 AS oldest
       FROM payments WHERE status <> 'refunded' AND refund_requested_at IS NOT NULL`,
  );
  return { count: rows[0]!.n, oldestSeconds: rows[0]!.oldest ?? 0 };
}

export async function findPayment(client: Pick<PoolClient, 'query'>, id: string): Promise<PaymentRow | null> {
  const { rows } = await client.query<RawPayment>(`SELECT ${COLUMNS} FROM payments WHERE id = $1`, [id]);
  return rows[0] ? toPayment(rows[0]) : null;
}

export async function findPaymentByProviderRef(client: Pick<PoolClient, 'query'>, providerRef: string): Promise<PaymentRow | null> {
  const { rows } = await client.query<RawPayment>(`SELECT ${COLUMNS} FROM payments WHERE provider_ref = $1`, [providerRef]);
  return rows[0] ? toPayment(rows[0]) : null;
}

/**
 * Locks a hold's succeeded payment for the confirming transaction; false when it
 * has not succeeded or a refund of it was already asked for (claimForRefund).
 */
export async function lockSucceededPayment(client: Pick<PoolClient, 'query'>, paymentId: string, holdId: string): Promise<boolean> {
  const { rowCount } = await client.query(
    `SELECT 1 FROM payments WHERE id = $1 AND hold_id = $2 AND status = 'succeeded' AND refund_requested_at IS NULL FOR UPDATE`,
    [paymentId, holdId],
  );
  return (rowCount ?? 0) > 0;
}
