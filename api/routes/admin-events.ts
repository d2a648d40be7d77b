/**
 * GET /v1/admin/events/{eventId} — one event as support staff see it: sale
 * state, seat counts, holds, orders and payments, the most recent checkouts,
 * and links into the Temporal UI for each checkout and for the admission
 * workflow.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Pool } from 'pg';
import type { EventsView } from '../events-view';
import { publicStatus } from '../events-view';
import { requireAdmin } from '../middleware/auth';
import { router } from '../router';
import { AdminEventBody, errorResponses, EventIdParam } from '../schemas';
import { temporalLinks } from '../temporal-links';

const AdminEventQuery = z.object({
  recent: z.coerce.number().int().min(0).max(200).default(25).openapi({ description: 'How many recent checkouts to list' }),
});

const getAdminEvent = createRoute({
  method: 'get',
  path: '/v1/admin/events/{eventId}',
  tags: ['Administration'],
  security: [{ admin: [] }],
  middleware: [requireAdmin] as const,
  request: { params: EventIdParam, query: AdminEventQuery },
  responses: {
    200: { description: 'The event with counts and support links', content: { 'application/json': { schema: AdminEventBody } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

interface Tally {
  holds: Record<'active' | 'purchased' | 'released' | 'expired', number>;
  orders: { count: number; seats: number; revenueCents: number };
  payments: Record<'pending' | 'succeeded' | 'declined' | 'refunded', number>;
}

/** Read-only aggregates for support; the seat counts themselves come from the seat cache. */
async function tally(pool: Pool, eventId: string): Promise<Tally> {
  const [holds, orders, payments] = await Promise.all([
    pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM holds WHERE event_id = $1 GROUP BY status',
      [eventId],
    ),
    pool.query<{ count: number; seats: number; revenue: string }>(
      `SELECT count(*)::int AS count, coalesce(sum(cardinality(seat_ids)), 0)::int AS seats,
              coalesce(sum(amount_cents), 0)::bigint AS revenue
         FROM orders WHERE event_id = $1`,
      [eventId],
    ),
    pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM payments WHERE event_id = $1 GROUP BY status',
      [eventId],
    ),
  ]);
  const by = <K extends string>(rows: { status: string; n: number }[], keys: readonly K[]) =>
    Object.fromEntries(keys.map((k) => [k, rows.find((r) => r.status === k)?.n ?? 0])) as Record<K, number>;
  const o = orders.rows[0]!;
  return {
    holds: by(holds.rows, ['active', 'purchased', 'released', 'expired'] as const),
    orders: { count: o.count, seats: o.seats, revenueCents: Number(o.revenue) },
    payments: by(payments.rows, ['pending', 'succeeded', 'declined', 'refunded'] as const),
  };
}

async function recentCheckouts(pool: Pool, eventId: string, limit: number) {
  if (limit === 0) return [];
  const { rows } = await pool.query<{
    hold_id: string;
    buyer_id: string;
    checkout_id: string;
    status: string;
    seat_ids: string[];
    amount_cents: number;
    expires_at: Date;
    created_at: Date;
    order_id: string | null;
  }>(
    `SELECT h.id AS hold_id, h.buyer_id, h.checkout_id, h.status, h.seat_ids, h.amount_cents, h.expires_at,
            h.created_at, o.id AS order_id
       FROM holds h LEFT JOIN orders o ON o.hold_id = h.id
      WHERE h.event_id = $1
      ORDER BY h.created_at DESC
      LIMIT $2`,
    [eventId, limit],
  );
  return rows;
}

export function adminEventRoutes(events: EventsView) {
  return router().openapi(getAdminEvent, async (c) => {
    const { eventId } = c.req.valid('param');
    const { recent } = c.req.valid('query');
    const { pool, config } = c.var.deps;
    const links = temporalLinks(config);
    const e = await events.event(eventId);
    const [counts, t, checkouts] = await Promise.all([events.counts(eventId), tally(pool, eventId), recentCheckouts(pool, eventId, recent)]);
    return c.json(
      {
        eventId: e.id,
        name: e.name,
        state: e.state,
        status: publicStatus(e, counts),
        onSaleAt: e.onSaleAt.toISOString(),
        holdSeconds: e.holdSeconds,
        maxSeatsPerBuyer: e.maxSeatsPerBuyer,
        waitingRoom: { enabled: e.waitingRoom.enabled, maxActiveCheckouts: e.waitingRoom.maxActiveCheckouts, admitPerMinute: e.waitingRoom.admitPerMinute },
        counts,
        ...t,
        temporal: { checkouts: links.checkoutsOf(eventId), admission: links.admission(eventId) },
        recentCheckouts: checkouts.map((r) => ({
          holdId: r.hold_id,
          buyerId: r.buyer_id,
          workflowId: r.checkout_id,
          status: r.status,
          seatIds: r.seat_ids,
          amountCents: r.amount_cents,
          expiresAt: r.expires_at.toISOString(),
          createdAt: r.created_at.toISOString(),
          orderId: r.order_id,
          temporalUrl: links.workflow(r.checkout_id),
        })),
      },
      200,
    );
  });
}
