import type { PoolClient } from 'pg';

export type PaymentStatus = 'pending' | 'succeeded' | 'declined' | 'refunded';

export interface PaymentRow {
  id: string;
  idempotencyKey: string;
  holdId: string;
  provider: string;
  providerRef: string | null;
  amountCents: number;
  status: PaymentStatus;
  declineCode: string | null;
}

interface RawPayment {
  id: string;
  idempotency_key: string;
  hold_id: string;
  provider: string;
  provider_ref: string | null;
  amount_cents: number;
  status: PaymentStatus;
  decline_code: string | null;
}

const toPayment = (r: RawPayment): PaymentRow => ({
  id: r.id,
  idempotencyKey: r.idempotency_key,
  holdId: r.hold_id,
  provider: r.provider,
  providerRef: r.provider_ref,
  amountCents: r.amount_cents,
  status: r.status,
  declineCode: r.decline_code,
});

const COLUMNS = 'id, idempotency_key, hold_id, provider, provider_ref, amount_cents, status, decline_code';

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

export async function settlePayment(
  client: Pick<PoolClient, 'query'>,
  id: string,
  outcome: { status: 'succeeded' | 'declined' | 'pending'; providerRef: string | null; declineCode?: string },
): Promise<PaymentRow> {
  const { rows } = await client.query<RawPayment>(
    `UPDATE payments SET status = $2, provider_ref = COALESCE($3, provider_ref), decline_code = $4, updated_at = now()
      WHERE id = $1 AND status IN ('pending', $2) RETURNING ${COLUMNS}`,
    [id, outcome.status, outcome.providerRef, outcome.declineCode ?? null],
  );
  if (rows[0]) return toPayment(rows[0]);
  const current = await findPayment(client, id);
  if (!current) throw new Error(`payment ${id} does not exist`);
  return current;
}

export async function markRefunded(client: Pick<PoolClient, 'query'>, id: string, refundRef: string): Promise<void> {
  await client.query(
    `UPDATE payments SET status = 'refunded', refund_ref = $2, updated_at = now() WHERE id = $1 AND status = 'succeeded'`,
    [id, refundRef],
  );
}

export async function findPayment(client: Pick<PoolClient, 'query'>, id: string): Promise<PaymentRow | null> {
  const { rows } = await client.query<RawPayment>(`SELECT ${COLUMNS} FROM payments WHERE id = $1`, [id]);
  return rows[0] ? toPayment(rows[0]) : null;
}

export async function findPaymentByProviderRef(
  client: Pick<PoolClient, 'query'>,
  providerRef: string,
): Promise<(PaymentRow & { checkoutId: string }) | null> {
  const { rows } = await client.query<RawPayment & { checkout_id: string }>(
    `SELECT ${COLUMNS}, checkout_id FROM payments WHERE provider_ref = $1`,
    [providerRef],
  );
  return rows[0] ? { ...toPayment(rows[0]), checkoutId: rows[0].checkout_id } : null;
}

/** Locks a hold's succeeded payment for the confirming transaction; false when it has not succeeded. */
export async function lockSucceededPayment(client: Pick<PoolClient, 'query'>, paymentId: string, holdId: string): Promise<boolean> {
  const { rowCount } = await client.query(`SELECT 1 FROM payments WHERE id = $1 AND hold_id = $2 AND status = 'succeeded' FOR UPDATE`, [
    paymentId,
    holdId,
  ]);
  return (rowCount ?? 0) > 0;
}
