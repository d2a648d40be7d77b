import type { PoolClient } from 'pg';
import type { NotificationKind } from '../../domain/notifications';

export interface OutboxMessage {
  id: number;
  dedupeKey: string;
  buyerId: string;
  recipient: string;
  kind: NotificationKind;
  payload: Record<string, unknown>;
  attempts: number;
}

/** Adds a message to the outbox once per dedupe key; the recipient is the buyer's e-mail. */
export async function enqueueNotification(
  client: Pick<PoolClient, 'query'>,
  n: { dedupeKey: string; buyerId: string; kind: NotificationKind; payload: Record<string, unknown> },
): Promise<boolean> {
  const { rowCount } = await client.query(
    `INSERT INTO notifications (dedupe_key, buyer_id, recipient, kind, payload)
     SELECT $1, b.id, b.email, $3, $4 FROM buyers b WHERE b.id = $2
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [n.dedupeKey, n.buyerId, n.kind, JSON.stringify(n.payload)],
  );
  return (rowCount ?? 0) > 0;
}

/** Claims due messages for delivery; a claimed message is not due again until its back-off passes. */
export async function claimDueNotifications(client: Pick<PoolClient, 'query'>, limit: number): Promise<OutboxMessage[]> {
  const { rows } = await client.query<{
    id: string;
    dedupe_key: string;
    buyer_id: string;
    recipient: string;
    kind: NotificationKind;
    payload: Record<string, unknown>;
    attempts: number;
  }>(
    `UPDATE notifications n
        SET attempts = n.attempts + 1,
            next_attempt_at = now() + make_interval(secs => least(300, 2 ^ n.attempts))
      WHERE n.id IN (SELECT id FROM notifications
                      WHERE status = 'pending' AND next_attempt_at <= now()
                      ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING n.id, n.dedupe_key, n.buyer_id, n.recipient, n.kind, n.payload, n.attempts`,
    [limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    dedupeKey: r.dedupe_key,
    buyerId: r.buyer_id,
    recipient: r.recipient,
    kind: r.kind,
    payload: r.payload,
    attempts: r.attempts,
  }));
}

export async function markNotificationSent(client: Pick<PoolClient, 'query'>, id: number): Promise<void> {
  await client.query(`UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1`, [id]);
}

export async function markNotificationFailed(client: Pick<PoolClient, 'query'>, id: number, error: string, final: boolean): Promise<void> {
  await client.query(`UPDATE notifications SET last_error = $2, status = CASE WHEN $3 THEN 'failed' ELSE status END WHERE id = $1`, [
    id,
    error.slice(0, 500),
    final,
  ]);
}

/** Age in seconds of the oldest message still waiting for delivery (0 when none): the outbox's lag. */
export async function outboxLagSeconds(client: Pick<PoolClient, 'query'>): Promise<number> {
  const { rows } = await client.query<{ lag: number | null }>(
    `SELECT extract(epoch FROM now() - min(created_at))::float8 AS lag FROM notifications WHERE status = 'pending'`,
  );
  return Math.max(0, rows[0]?.lag ?? 0);
}
