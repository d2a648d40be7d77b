import { createRoute } from '@hono/zod-openapi';
import { router } from '../router';
import { publicStatus } from '../events-view';
import { errorResponses, EventBody, EventIdParam, SeatMapBody } from '../schemas';

const getEvent = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}',
  tags: ['Browsing'],
  request: { params: EventIdParam },
  responses: { 200: { description: 'The event', content: { 'application/json': { schema: EventBody } } }, ...errorResponses(400, 404) },
});

const getSeats = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/seats',
  tags: ['Browsing'],
  request: { params: EventIdParam },
  responses: {
    200: { description: 'The seat map', content: { 'application/json': { schema: SeatMapBody } } },
    ...errorResponses(400, 404),
  },
});

export function eventRoutes() {
  return router()
    .openapi(getEvent, async (c) => {
      const { eventId } = c.req.valid('param');
      const { events } = c.var.services;
      const e = await events.event(eventId);
      const counts = await events.counts(eventId);
      return c.json(
        {
          eventId: e.id,
          name: e.name,
          status: publicStatus(e, counts),
          onSaleAt: e.onSaleAt.toISOString(),
          holdSeconds: e.holdSeconds,
          maxSeatsPerBuyer: e.maxSeatsPerBuyer,
          waitingRoom: e.waitingRoom,
          counts,
          venue: e.venue,
          startsAt: e.startsAt?.toISOString() ?? null,
          description: e.description,
        },
        200,
      );
    })
    .openapi(getSeats, async (c) => {
      const { eventId } = c.req.valid('param');
      const { events } = c.var.services;
      await events.event(eventId);
      const map = await events.seatMap(eventId);
      return c.json({ eventId, version: map.version, seats: map.seats }, 200);
    });
}
