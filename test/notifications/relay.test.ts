/** The outbox relay delivers queued notifications over real SMTP; Mailpit's API reads them back. */
import { createPool } from '../../db/pool';
import { migrate } from '../../db/migrate';
import { enqueueNotification } from '../../db/queries/notifications';
import { createLogger } from '../../platform/logger';
import { createMailer, startOutboxRelay } from '../../notifications/relay';
import { requireEnv } from '../../harness/runtime';
import { seedBuyer } from '../../harness/seed';

test('a confirmation queued in the outbox arrives by e-mail, once', async () => {
  const pool = createPool(requireEnv('DATABASE_URL'), { max: 4 });
  await migrate(pool);
  const relay = startOutboxRelay({
    pool,
    mailer: createMailer(requireEnv('SMTP_URL')),
    from: 'onsale <tickets@onsale.test>',
    logger: createLogger('test', 'warn'),
    pollMs: 200,
  });
  try {
    const buyerId = await seedBuyer(pool, 'Mail Reader');
    const { rows } = await pool.query('SELECT email FROM buyers WHERE id = $1', [buyerId]);
    const orderId = `ord_${buyerId.slice(4)}`;
    const n = {
      dedupeKey: `order_confirmed:${orderId}`,
      buyerId,
      kind: 'order_confirmed' as const,
      payload: { orderId, seatIds: ['A-1-1'], amountCents: 12500 },
    };
    expect(await enqueueNotification(pool, n)).toBe(true);
    expect(await enqueueNotification(pool, n)).toBe(false);

    const api = requireEnv('MAILPIT_API_URL');
    let found: any[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await fetch(`${api}/api/v1/search?query=${encodeURIComponent(`to:${rows[0].email}`)}`);
      found = ((await res.json()) as { messages: any[] }).messages;
    }
    expect(found).toHaveLength(1);
    expect(found[0].Subject).toBe(`Your tickets are confirmed — order ${orderId}`);
    const message = (await (await fetch(`${api}/api/v1/message/${found[0].ID}`)).json()) as { Text: string };
    expect(message.Text).toContain('Seats: A-1-1');
    expect(message.Text).toContain('Total: $125.00');
    const status = await pool.query(`SELECT status, attempts FROM notifications WHERE dedupe_key = $1`, [n.dedupeKey]);
    expect(status.rows[0]).toEqual({ status: 'sent', attempts: 1 });
  } finally {
    await relay.stop();
    await pool.end();
  }
});
