/**
 * ./onsale reconcile [--event <eventId>]... [--since <hours>] [--pending-bound <seconds>] [--refund]
 *
 * The operator's reconciliation against a live system: the database audit
 * (db/audit.ts) and the payment provider's own books (Stripe's PaymentIntents
 * by the metadata onsale sets; the development provider's ledger). Prints each
 * check and exits 1 when any is violated. With --refund it also starts the
 * refund workflow (idempotent, one per payment) for every charge the provider
 * made that has neither an order nor a refund; the workflow keeps any payment
 * that turns out to have paid for an order.
 */
import { reconcile } from '../db/audit';
import { createPool } from '../db/pool';
import { createPaymentProvider } from '../payments';
import { loadConfigOrExit } from '../platform/config';
import { connectClient } from '../platform/temporal';
import { startRefundWorkflow } from '../api/refunds';

function args(argv: string[]) {
  const eventIds: string[] = [];
  let sinceHours = 24;
  let pendingBound: number | undefined;
  let refund = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--event') eventIds.push(argv[++i] ?? '');
    else if (a === '--since') sinceHours = Number(argv[++i]);
    else if (a === '--pending-bound') pendingBound = Number(argv[++i]);
    else if (a === '--refund') refund = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isFinite(sinceHours) || sinceHours <= 0) throw new Error('--since takes a number of hours');
  return { eventIds, sinceHours, pendingBound, refund };
}

async function main(): Promise<number> {
  const opts = args(process.argv.slice(2));
  const config = loadConfigOrExit();
  const pool = createPool(config.DATABASE_URL, { max: 2 });
  try {
    const provider = createPaymentProvider(config, pool);
    const report = await reconcile(pool, provider, {
      ...(opts.eventIds.length && { eventIds: opts.eventIds }),
      since: new Date(Date.now() - opts.sinceHours * 3600_000),
      ...(opts.pendingBound !== undefined && { pendingPaymentSeconds: opts.pendingBound }),
    });
    const width = Math.max(...Object.keys(report.violations).map((k) => k.length));
    process.stdout.write(
      `provider ${report.provider.name}: ${report.provider.payments} payments, ${report.provider.charged} charged, ${report.provider.refunded} refunded\n`,
    );
    process.stdout.write(`database: ${JSON.stringify(report.totals)}\n`);
    for (const [name, n] of Object.entries(report.violations)) {
      process.stdout.write(`${name.padEnd(width)}  ${n === 0 ? 'ok' : `${n} VIOLATION${n === 1 ? '' : 'S'}`}\n`);
    }
    if (opts.refund) {
      const { rows } = await pool.query<{ id: string; event_id: string; buyer_id: string; hold_id: string }>(
        `SELECT p.id, p.event_id, p.buyer_id, p.hold_id FROM payments p
          WHERE p.status = 'succeeded' AND p.refund_requested_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.payment_id = p.id)
            AND p.updated_at < now() - interval '15 minutes'
            AND ($1::text[] IS NULL OR p.event_id = ANY($1::text[]))`,
        [opts.eventIds.length ? opts.eventIds : null],
      );
      const temporal = await connectClient(config);
      for (const r of rows) {
        const id = await startRefundWorkflow(
          { temporal, pool, taskQueue: config.TEMPORAL_TASK_QUEUE },
          { id: r.id, eventId: r.event_id, buyerId: r.buyer_id, holdId: r.hold_id },
          'operator',
        );
        process.stdout.write(`refund started: ${id}\n`);
      }
      await temporal.connection.close();
    }
    process.stdout.write(report.ok ? 'reconciliation clean\n' : 'reconciliation found violations\n');
    return report.ok ? 0 : 1;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`reconcile: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
