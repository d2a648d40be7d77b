/**
 * The development payment provider's ledger (table test_provider_intents):
 * Stripe's side of the books when Stripe is stripe-mock, which keeps no state.
 * Only payments/test-cards.ts writes it; the reconciliation reads it as it would
 * read Stripe's PaymentIntents.
 */
import type { PoolClient } from 'pg';

export type LedgerIntentStatus = 'requires_action' | 'succeeded' | 'canceled' | 'requires_payment_method';

export interface LedgerIntent {
  id: string;
  idempotencyKey: string;
  amountCents: number;
  currency: string;
  paymentMethod: string;
  status: LedgerIntentStatus;
  clientSecret: string;
  metadata: Record<string, string>;
  refundId: string | null;
  createdAt: Date;
}

interface RawIntent {
  id: string;
  idempotency_key: string;
  amount_cents: number;
  currency: string;
  payment_method: string;
  status: LedgerIntentStatus;
  client_secret: string;
  metadata: Record<string, string>;
  refund_id: string | null;
  created_at: Date;
}

const COLUMNS = 'id, idempotency_key, amount_cents, currency, payment_method, status, client_secret, metadata, refund_id, created_at';

const toIntent = (r: RawIntent): LedgerIntent => ({
  id: r.id,
  idempotencyKey: r.idempotency_key,
  amountCents: r.amount_cents,
  currency: r.currency,
  paymentMethod: r.payment_method,
  status: r.status,
  clientSecret: r.client_secret,
  metadata: r.metadata,
  refundId: r.refund_id,
  createdAt: r.created_at,
});

/** Records an intent; a second call with the same idempotency key returns the first intent, as Stripe replays it. */
export async function recordIntent(
  client: Pick<PoolClient, 'query'>,
  i: Omit<LedgerIntent, 'refundId' | 'createdAt'>,
): Promise<LedgerIntent> {
  await client.query(
    `INSERT INTO test_provider_intents (id, idempotency_key, amount_cents, currency, payment_method, status, client_secret, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING`,
    [i.id, i.idempotencyKey, i.amountCents, i.currency, i.paymentMethod, i.status, i.clientSecret, JSON.stringify(i.metadata)],
  );
  const { rows } = await client.query<RawIntent>(`SELECT ${COLUMNS} FROM test_provider_intents WHERE idempotency_key = $1`, [
    i.idempotencyKey,
  ]);
  return toIntent(rows[0]!);
}

export async function findIntent(client: Pick<PoolClient, 'query'>, id: string): Promise<LedgerIntent | null> {
  const { rows } = await client.query<RawIntent>(`SELECT ${COLUMNS} FROM test_provider_intents WHERE id = $1`, [id]);
  return rows[0] ? toIntent(rows[0]) : null;
}

/**
 * Moves an intent from one status to another, as Stripe's state machine allows
 * it; answers the intent as it is afterwards (unchanged when it was not in `from`).
 */
export async function moveIntent(
  client: Pick<PoolClient, 'query'>,
  id: string,
  from: LedgerIntentStatus[],
  to: LedgerIntentStatus,
): Promise<LedgerIntent | null> {
  await client.query(`UPDATE test_provider_intents SET status = $3, updated_at = now() WHERE id = $1 AND status = ANY($2::text[])`, [
    id,
    from,
    to,
  ]);
  return findIntent(client, id);
}

/** Refunds a succeeded intent once; answers the refund id (the first one on a repeat). Null when it was never charged. */
export async function refundIntent(client: Pick<PoolClient, 'query'>, id: string, refundId: string): Promise<string | null> {
  const { rows } = await client.query<{ refund_id: string | null }>(
    `UPDATE test_provider_intents SET refund_id = COALESCE(refund_id, $2), refunded_at = COALESCE(refunded_at, now()), updated_at = now()
      WHERE id = $1 AND status = 'succeeded' RETURNING refund_id`,
    [id, refundId],
  );
  return rows[0]?.refund_id ?? null;
}

/** Every intent created since `since`, optionally only those whose metadata names one of these events. */
export async function listIntents(client: Pick<PoolClient, 'query'>, opts: { since: Date; eventIds?: string[] }): Promise<LedgerIntent[]> {
  const { rows } = await client.query<RawIntent>(
    `SELECT ${COLUMNS} FROM test_provider_intents
      WHERE created_at >= $1 AND ($2::text[] IS NULL OR metadata ->> 'eventId' = ANY($2::text[]))
      ORDER BY created_at`,
    [opts.since, opts.eventIds ?? null],
  );
  return rows.map(toIntent);
}
