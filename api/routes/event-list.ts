/** GET /v1/events — the public list of events on sale (or coming up), for the landing page. */
import { createRoute } from '@hono/zod-openapi';
import { listEvents } from '../../db/queries/events';
import { decodeCursor, encodeCursor } from '../cursor';
import { buyerEventLinks, publicEventLinks, readsOnly } from '../links';
import { router } from '../router';
import { errorResponses, PublicEventList, PublicEventListQuery } from '../schemas';

const listPublicEvents = createRoute({
  method: 'get',
  path: '/v1/events',
  tags: ['Browsing'],
  description: 'Events on sale now (status=on_sale, the default) or scheduled to go on sale, newest first. Cacheable for 5 s.',
  request: { query: PublicEventListQuery },
  responses: {
    200: {
      description: 'A page of events',
      content: { 'application/json': { schema: PublicEventList } },
      links: readsOnly({ ...publicEventLinks('$response.body#/events/0/eventId'), ...buyerEventLinks('$response.body#/events/0/eventId') }),
    },
    ...errorResponses(400),
  },
});

export function eventListRoutes() {
  return router().openapi(listPublicEvents, async (c) => {
    const { status, cursor, limit } = c.req.valid('query');
    const page = await listEvents(c.var.services.pool, { status, after: decodeCursor(cursor), limit });
    c.header('Cache-Control', 'public, max-age=5');
    return c.json(
      {
        events: page.events.map((e) => ({
          eventId: e.id,
          name: e.name,
          status,
          venue: e.venue,
          startsAt: e.startsAt?.toISOString() ?? null,
          onSaleAt: e.onSaleAt.toISOString(),
          description: e.description,
        })),
        ...(page.next && { nextCursor: encodeCursor(page.next) }),
      },
      200,
    );
  });
}
