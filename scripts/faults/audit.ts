/**
 * The audit, scoped to the events a scenario sold: other test runs
 * share the database, so a global audit would judge their in-flight work too.
 * The checks are db/audit.ts's reconciliation (the database and the payment
 * provider's own books), plus the proxy's view: every charge that reached the
 * payment provider belongs to exactly one payment row.
 */
import type { Pool } from 'pg';
import { reconcile, type ReconciliationReport } from '../../db/audit';
import { createPaymentProvider } from '../../payments';
import { loadConfig } from '../../platform/config';

export type ScopedAudit = ReconciliationReport;

/** db/audit.ts's reconciliation over these events, including the checks that hold once the system is back. */
export function auditEvents(pool: Pool, eventIds: string[], staleHoldSeconds = 10): Promise<ScopedAudit> {
  return reconcile(pool, createPaymentProvider(loadConfig(), pool), { eventIds, staleHoldSeconds });
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
