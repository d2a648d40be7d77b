/**
 * The database audit: the invariants that must hold after any run, whatever
 * failed during it. Each check counts violations; a clean database has none.
 */
import type { Pool } from 'pg';
import type { PaymentProvider } from '../payments/provider';

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
  // No seat is in two holds at once, judged from the holds' own intervals: a seat row stores one hold id, so
  // only the holds table can show a double hold. A hold owns its seats from its creation until it ended or
  // expired, whichever came first; a purchased hold's seats stay its own.
  seatInOverlappingHolds: `WITH span AS (
      SELECT h.id, h.event_id, unnest(h.seat_ids) AS seat_id,
             tstzrange(h.created_at, CASE WHEN h.status = 'purchased' THEN 'infinity'::timestamptz
                                          ELSE least(coalesce(h.ended_at, 'infinity'::timestamptz), h.expires_at) END) AS owned
        FROM holds h WHERE ${IN_SCOPE('h')})
    SELECT count(*) FROM span a JOIN span b
      ON a.event_id = b.event_id AND a.seat_id = b.seat_id AND a.id < b.id AND a.owned && b.owned`,
};

/** Once the system is back: work that should have finished more than `staleSeconds` ago. */
const settledChecks = (staleSeconds: number): Record<string, string> => {
  const age = `make_interval(secs => ${Number(staleSeconds)})`;
  return {
    // A held seat past its window: a release that never happened.
    staleHold: `SELECT count(*) FROM seats s WHERE s.status = 'held' AND ${IN_SCOPE('s')} AND s.hold_expires_at < now() - ${age}`,
    activeHoldPastWindow: `SELECT count(*) FROM holds h WHERE h.status = 'active' AND ${IN_SCOPE('h')} AND h.expires_at < now() - ${age}`,
  };
};

/**
 * Always checked, with its own bound: a payment still pending longer than any
 * authentication may take (the checkout cancels it at five minutes) was
 * forgotten. Charges waiting for their refund longer than the bound are refunds
 * that are not landing (the provider is down, or the refund workflow is stuck).
 */
export const PENDING_PAYMENT_BOUND_SECONDS = 15 * 60;
const paymentChecks = (boundSeconds: number): Record<string, string> => {
  const age = `make_interval(secs => ${Number(boundSeconds)})`;
  return {
    paymentLeftPending: `SELECT count(*) FROM payments p WHERE p.status = 'pending' AND ${IN_SCOPE('p')} AND p.updated_at < now() - ${age}`,
    refundNotLanding: `SELECT count(*) FROM payments p WHERE p.status <> 'refunded' AND p.refund_requested_at < now() - ${age}
      AND ${IN_SCOPE('p')}`,
  };
};

export async function auditDatabase(
  pool: Pool,
  opts: { eventIds?: string[]; staleHoldSeconds?: number; pendingPaymentSeconds?: number } = {},
): Promise<AuditReport> {
  const violations: Record<string, number> = {};
  const queries = {
    ...CHECKS,
    ...paymentChecks(opts.pendingPaymentSeconds ?? opts.staleHoldSeconds ?? PENDING_PAYMENT_BOUND_SECONDS),
    ...(opts.staleHoldSeconds !== undefined && settledChecks(opts.staleHoldSeconds)),
  };
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

export interface ReconciliationReport extends AuditReport {
  /** The provider's side: how many charges it reported, and the violations found by comparing them. */
  provider: { name: string; payments: number; charged: number; refunded: number };
}

interface BookRow {
  id: string;
  status: string;
  provider_ref: string | null;
  amount_cents: number;
  refund_requested_at: Date | null;
  order_id: string | null;
  order_status: string | null;
}

/**
 * The audit plus the provider's books: every charge the provider recorded has
 * exactly one confirmed order or one refund (a refund asked for less than
 * `pendingPaymentSeconds` ago is still on its way), no declined or pending row
 * is a success at the provider, and every charge onsale recorded is one the
 * provider made. `since` bounds how far back the provider is asked.
 */
export async function reconcile(
  pool: Pool,
  provider: Pick<PaymentProvider, 'name' | 'listPayments'>,
  opts: { eventIds?: string[]; since?: Date; staleHoldSeconds?: number; pendingPaymentSeconds?: number } = {},
): Promise<ReconciliationReport> {
  const audit = await auditDatabase(pool, opts);
  const since = opts.since ?? new Date(Date.now() - 24 * 3600_000);
  const bound = (opts.pendingPaymentSeconds ?? opts.staleHoldSeconds ?? PENDING_PAYMENT_BOUND_SECONDS) * 1000;
  const atProvider = await provider.listPayments({ since, ...(opts.eventIds && { eventIds: opts.eventIds }) });
  const { rows } = await pool.query<BookRow>(
    `SELECT p.id, p.status, p.provider_ref, p.amount_cents, p.refund_requested_at, o.id AS order_id, o.status AS order_status
       FROM payments p LEFT JOIN orders o ON o.payment_id = p.id
      WHERE ${IN_SCOPE('p')} AND (p.created_at >= $2 OR p.provider_ref = ANY($3::text[]))`,
    [opts.eventIds ?? null, since, atProvider.map((x) => x.providerRef)],
  );
  const byRef = new Map(rows.filter((r) => r.provider_ref).map((r) => [r.provider_ref!, r]));
  const v = {
    providerChargeWithoutOrderOrRefund: 0,
    providerChargeUnknown: 0,
    providerRefundWithOrder: 0,
    refundNotRecorded: 0,
    declinedButCharged: 0,
    amountMismatch: 0,
    chargeNotAtProvider: 0,
  };
  const now = Date.now();
  for (const charge of atProvider) {
    if (charge.status !== 'succeeded' && charge.status !== 'refunded') continue;
    const row = byRef.get(charge.providerRef);
    if (!row) {
      v.providerChargeUnknown++;
      continue;
    }
    if (row.amount_cents !== charge.amountCents) v.amountMismatch++;
    if (charge.status === 'succeeded') {
      const refundOnItsWay = row.refund_requested_at !== null && now - row.refund_requested_at.getTime() < bound;
      if (row.order_status !== 'confirmed' && !refundOnItsWay) v.providerChargeWithoutOrderOrRefund++;
      if (row.status === 'declined' || (row.status === 'pending' && now - charge.createdAt.getTime() > bound)) v.declinedButCharged++;
    } else {
      if (row.order_id) v.providerRefundWithOrder++;
      if (row.status !== 'refunded') v.refundNotRecorded++;
    }
  }
  const charged = new Set(atProvider.filter((x) => x.status === 'succeeded' || x.status === 'refunded').map((x) => x.providerRef));
  const listed = new Set(atProvider.map((x) => x.providerRef));
  for (const row of rows) {
    // A charge onsale believes in must be one the provider made (rows older than `since` were not asked about).
    if ((row.status === 'succeeded' || row.status === 'refunded') && row.provider_ref && listed.has(row.provider_ref)) {
      if (!charged.has(row.provider_ref)) v.chargeNotAtProvider++;
    }
  }
  const violations = { ...audit.violations, ...v };
  return {
    ...audit,
    ok: Object.values(violations).every((n) => n === 0),
    violations,
    provider: {
      name: provider.name,
      payments: atProvider.length,
      charged: charged.size,
      refunded: atProvider.filter((x) => x.status === 'refunded').length,
    },
  };
}
