/** The record of what administrators did: who, when, what. Written once per admin request, never changed. */
import type { PoolClient } from 'pg';

export interface AdminAction {
  actor: string;
  action: string;
  eventId?: string | null;
  orderId?: string | null;
  status: number;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

export async function recordAdminAction(client: Pick<PoolClient, 'query'>, a: AdminAction): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO admin_actions (actor, action, event_id, order_id, status, request_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [a.actor, a.action, a.eventId ?? null, a.orderId ?? null, a.status, a.requestId ?? null, JSON.stringify(a.details ?? {})],
  );
  return Number(rows[0]!.id);
}

export interface AdminActionRow extends AdminAction {
  id: number;
  at: Date;
}

/** The newest actions, optionally about one event or one order. */
export async function listAdminActions(
  client: Pick<PoolClient, 'query'>,
  q: { eventId?: string; orderId?: string; beforeId?: number; limit: number },
): Promise<AdminActionRow[]> {
  const { rows } = await client.query<{
    id: string;
    actor: string;
    action: string;
    event_id: string | null;
    order_id: string | null;
    status: number;
    request_id: string | null;
    details: Record<string, unknown>;
    at: Date;
  }>(
    `SELECT id, actor, action, event_id, order_id, status, request_id, details, at FROM admin_actions
      WHERE ($1::text IS NULL OR event_id = $1) AND ($2::text IS NULL OR order_id = $2) AND ($3::bigint IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4`,
    [q.eventId ?? null, q.orderId ?? null, q.beforeId ?? null, q.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    actor: r.actor,
    action: r.action,
    eventId: r.event_id,
    orderId: r.order_id,
    status: r.status,
    requestId: r.request_id,
    details: r.details,
    at: r.at,
  }));
}
