/**
 * What organisers read: the list of events with counts and revenue, one
 * event's live figures for the dashboard, and the record of admin actions.
 */
import { createRoute } from '@hono/zod-openapi';
import { listAdminActions } from '../../db/queries/admin-actions';
import { listEvents } from '../../db/queries/events';
import { eventActivity } from '../../db/queries/reports';
import { decodeCursor, encodeCursor } from '../cursor';
import { publicStatus } from '../events-view';
import { adminEventLinks, publicEventLinks, readsOnly } from '../links';
import { requireAdmin } from '../middleware/auth';
import { router } from '../router';
import {
  AdminActionList,
  AdminActionsQuery,
  AdminEventList,
  AdminEventListQuery,
  errorResponses,
  EventIdParam,
  EventStats,
} from '../schemas';

const listAdminEvents = createRoute({
  method: 'get',
  path: '/v1/admin/events',
  tags: ['Administration'],
  security: [{ admin: [] }],
  middleware: [requireAdmin] as const,
  description: 'Events newest first, with seat counts and revenue from confirmed orders; page with nextCursor.',
  request: { query: AdminEventListQuery },
  responses: {
    200: {
      description: 'A page of events',
      content: { 'application/json': { schema: AdminEventList } },
      links: {
        ...readsOnly(adminEventLinks('$response.body#/events/0/eventId')),
        GetEvent: publicEventLinks('$response.body#/events/0/eventId').GetEvent!,
      },
    },
    ...errorResponses(400, 401, 403),
  },
});

const getEventStats = createRoute({
  method: 'get',
  path: '/v1/admin/events/{eventId}/stats',
  tags: ['Administration'],
  security: [{ admin: [] }],
  middleware: [requireAdmin] as const,
  description: "The event's cumulative figures now; the console samples them and charts the rates per minute.",
  request: { params: EventIdParam },
  responses: {
    200: { description: 'Live figures', content: { 'application/json': { schema: EventStats } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

const getAdminActions = createRoute({
  method: 'get',
  path: '/v1/admin/actions',
  tags: ['Administration'],
  security: [{ admin: [] }],
  middleware: [requireAdmin] as const,
  description: 'Who did what and when, newest first.',
  request: { query: AdminActionsQuery },
  responses: {
    200: { description: 'Recorded admin actions', content: { 'application/json': { schema: AdminActionList } } },
    ...errorResponses(400, 401, 403),
  },
});

export function adminListRoutes() {
  return router()
    .openapi(listAdminEvents, async (c) => {
      const { status, cursor, limit } = c.req.valid('query');
      const { pool, seatCache } = c.var.services;
      const page = await listEvents(pool, { status, after: decodeCursor(cursor), limit });
      const countsById = await seatCache.countsOf(page.events.map((e) => e.id));
      const rows = page.events.map((e) => {
        const counts = countsById.get(e.id) ?? { available: 0, held: 0, sold: 0 };
        return {
          eventId: e.id,
          name: e.name,
          status: publicStatus(e, counts),
          venue: e.venue,
          startsAt: e.startsAt?.toISOString() ?? null,
          onSaleAt: e.onSaleAt.toISOString(),
          counts,
          revenueCents: e.revenueCents,
        };
      });
      return c.json({ events: rows, ...(page.next && { nextCursor: encodeCursor(page.next) }) }, 200);
    })
    .openapi(getEventStats, async (c) => {
      const { eventId } = c.req.valid('param');
      const { pool, events, room } = c.var.services;
      const e = await events.event(eventId);
      const [counts, queue, activity] = await Promise.all([events.counts(eventId), room.progress(eventId), eventActivity(pool, eventId)]);
      return c.json(
        {
          eventId,
          at: new Date().toISOString(),
          status: publicStatus(e, counts),
          queueLength: queue.queueLength,
          servingPosition: queue.servingPosition,
          admitted: queue.servingPosition,
          activeHolds: activity.activeHolds,
          sold: activity.seatsSold,
          orders: activity.orders,
          refunds: activity.refunds,
          revenueCents: activity.revenueCents,
          counts,
        },
        200,
      );
    })
    .openapi(getAdminActions, async (c) => {
      const { eventId, limit } = c.req.valid('query');
      const rows = await listAdminActions(c.var.services.pool, { eventId, limit });
      return c.json(
        {
          actions: rows.map((a) => ({
            id: a.id,
            actor: a.actor,
            action: a.action,
            eventId: a.eventId ?? null,
            orderId: a.orderId ?? null,
            status: a.status,
            requestId: a.requestId ?? null,
            details: a.details ?? {},
            at: a.at.toISOString(),
          })),
        },
        200,
      );
    });
}
