import { createRoute, type z } from '@hono/zod-openapi';
import type { TypedResponse } from 'hono';
import { buyerEventLinks, publicEventLinks, readsOnly } from '../links';
import { lean } from '../lean-inputs';
import { router } from '../router';
import { publicStatus } from '../events-view';
import { matchesEtag, sendPrepared } from '../http-cache';
import { LAYOUT_CACHE_CONTROL, STATUS_CACHE_CONTROL } from '../seat-reads';
import { errorResponses, EventBody, EventIdParam, IfNoneMatchHeader, SeatLayoutBody, SeatMapBody, SeatStatusesBody } from '../schemas';

/**
 * A prepared (possibly compressed, possibly 304) answer, typed as the route's
 * JSON body for the typed client: the bytes are that JSON whenever a body is sent.
 */
const asJson = <T>(res: Response) => res as unknown as TypedResponse<T, 200, 'json'>;

const notModified = { 304: { description: 'Not modified: the ETag sent in If-None-Match is current' } };

/** From an event: its seats, its stream, its waiting room, the buyer's place and checkout. */
const { GetEvent: _self, ...EVENT_READS } = publicEventLinks('$request.path.eventId');
const EVENT_LINKS = readsOnly({ ...EVENT_READS, ...buyerEventLinks('$request.path.eventId') });

const getEvent = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}',
  tags: ['Browsing'],
  request: { params: EventIdParam },
  responses: {
    200: { description: 'The event', content: { 'application/json': { schema: EventBody } }, links: EVENT_LINKS },
    ...errorResponses(400, 404),
  },
});

const getSeats = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/seats',
  tags: ['Browsing'],
  description:
    'Every seat with its status, in full. Prefer /seatmap (once) and /seats/status: together they are a few KB. ' +
    'ETag = version; If-None-Match with the current version answers 304.',
  request: { params: EventIdParam, headers: IfNoneMatchHeader },
  responses: {
    200: { description: 'The seat map', content: { 'application/json': { schema: SeatMapBody } } },
    ...notModified,
    ...errorResponses(400, 404),
  },
});

const getSeatLayout = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/seatmap',
  tags: ['Browsing'],
  description: `The layout alone; it does not change during a sale. \`Cache-Control: ${LAYOUT_CACHE_CONTROL}\`, ETag = layoutVersion.`,
  request: { params: EventIdParam, headers: IfNoneMatchHeader },
  responses: {
    200: { description: 'The layout', content: { 'application/json': { schema: SeatLayoutBody } } },
    ...notModified,
    ...errorResponses(400, 404),
  },
});

const getSeatStatuses = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/seats/status',
  tags: ['Browsing'],
  description:
    `Every seat's status, two bits a seat, in the seatmap's order. ETag = version; \`Cache-Control: ${STATUS_CACHE_CONTROL}\`. ` +
    'Follow /seats/stream from this version for what changes next.',
  request: { params: EventIdParam, headers: IfNoneMatchHeader },
  responses: {
    200: { description: 'Packed statuses', content: { 'application/json': { schema: SeatStatusesBody } } },
    ...notModified,
    ...errorResponses(400, 404),
  },
});

export function eventRoutes() {
  const r = router();
  return r
    .openapi(getEvent, async (c) => {
      const { eventId } = c.req.valid('param');
      const { events } = c.var.services;
      const e = await events.event(eventId);
      const counts = await events.counts(eventId);
      c.header('Cache-Control', 'public, max-age=1');
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
    .openapi(lean(r, getSeats), async (c) => {
      const { eventId } = c.req.valid('param');
      const { events, seatCache } = c.var.services;
      await events.event(eventId);
      c.header('Cache-Control', STATUS_CACHE_CONTROL);
      const ifNoneMatch = c.req.header('if-none-match');
      if (ifNoneMatch) {
        const etag = `"${await seatCache.version(eventId)}"`;
        if (matchesEtag(ifNoneMatch, etag)) {
          return asJson<z.infer<typeof SeatMapBody>>(c.body(null, 304, { ETag: etag, Vary: 'Accept-Encoding' }));
        }
      }
      const map = await events.seatMap(eventId);
      c.header('ETag', `"${map.version}"`);
      return c.json({ eventId, version: map.version, seats: map.seats }, 200);
    })
    .openapi(lean(r, getSeatLayout), async (c) => {
      const { eventId } = c.req.valid('param');
      const { events, seatReads } = c.get('services');
      const cached = seatReads.peekLayout(eventId);
      if (cached) return asJson<z.infer<typeof SeatLayoutBody>>(sendPrepared(c, cached));
      await events.event(eventId);
      return asJson<z.infer<typeof SeatLayoutBody>>(sendPrepared(c, await seatReads.layout(eventId)));
    })
    .openapi(lean(r, getSeatStatuses), async (c) => {
      const { eventId } = c.req.valid('param');
      const { events, seatReads } = c.get('services');
      const cached = seatReads.peekStatuses(eventId);
      if (cached) return asJson<z.infer<typeof SeatStatusesBody>>(sendPrepared(c, cached));
      await events.event(eventId);
      return asJson<z.infer<typeof SeatStatusesBody>>(sendPrepared(c, await seatReads.packedStatuses(eventId)));
    });
}
