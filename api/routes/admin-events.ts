/**
 * GET /v1/admin/events/{eventId} — one event as support staff see it: sale
 * state, seat counts, holds, orders and payments, the most recent checkouts,
 * and links into the Temporal UI for each checkout and for the admission
 * workflow.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { recentCheckouts, tallyEvent } from '../../db/queries/reports';
import { publicStatus } from '../events-view';
import { adminEventLinks, readsOnly } from '../links';
import { requireAdmin } from '../middleware/auth';
import { router } from '../router';
import { AdminEventBody, errorResponses, EventIdParam, queryInt } from '../schemas';
import { temporalLinks } from '../temporal-links';

const AdminEventQuery = z.object({
  recent: queryInt(0, 200, 25, /^(0|[1-9]\d?|1\d\d|200)$/),
});

/** From the organiser's view of an event: its figures and its orders. */
const { GetAdminEvent: _self, ...ADMIN_EVENT_LINKS } = readsOnly(adminEventLinks('$request.path.eventId'));

const getAdminEvent = createRoute({
  method: 'get',
  path: '/v1/admin/events/{eventId}',
  tags: ['Administration'],
  security: [{ admin: [] }],
  middleware: [requireAdmin] as const,
  request: { params: EventIdParam, query: AdminEventQuery },
  responses: {
    200: {
      description: 'The event with counts and support links',
      content: { 'application/json': { schema: AdminEventBody } },
      links: ADMIN_EVENT_LINKS,
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

export function adminEventRoutes() {
  return router().openapi(getAdminEvent, async (c) => {
    const { eventId } = c.req.valid('param');
    const { recent } = c.req.valid('query');
    const { pool, config, events } = c.var.services;
    const links = temporalLinks(config);
    const e = await events.event(eventId);
    const [counts, t, checkouts] = await Promise.all([
      events.counts(eventId),
      tallyEvent(pool, eventId),
      recentCheckouts(pool, eventId, recent),
    ]);
    return c.json(
      {
        eventId: e.id,
        name: e.name,
        state: e.state,
        status: publicStatus(e, counts),
        onSaleAt: e.onSaleAt.toISOString(),
        holdSeconds: e.holdSeconds,
        maxSeatsPerBuyer: e.maxSeatsPerBuyer,
        waitingRoom: {
          enabled: e.waitingRoom.enabled,
          maxActiveCheckouts: e.waitingRoom.maxActiveCheckouts,
          admitPerMinute: e.waitingRoom.admitPerMinute,
        },
        counts,
        venue: e.venue,
        startsAt: e.startsAt?.toISOString() ?? null,
        description: e.description,
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
