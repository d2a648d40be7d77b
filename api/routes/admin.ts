import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { withTransaction } from '../../db/pool';
import { insertEvent, setEventState, updateWaitingRoomLimits, type EventState } from '../../db/queries/events';
import { DomainError } from '../../domain/errors';
import { router } from '../router';
import { adminEventLinks, buyerEventLinks, publicEventLinks } from '../links';
import { requireAdmin } from '../middleware/auth';
import { CreatedEvent, CreateEventBody, errorResponses, EventIdParam, LimitsBody } from '../schemas';

const createEvent = createRoute({
  method: 'post',
  path: '/v1/admin/events',
  tags: ['Administration'],
  security: [{ admin: [] }],
  request: { body: { content: { 'application/json': { schema: CreateEventBody } }, required: true } },
  responses: {
    201: {
      description: 'Created with its seats',
      content: { 'application/json': { schema: CreatedEvent } },
      links: { ...adminEventLinks('$response.body#/eventId'), GetEvent: publicEventLinks('$response.body#/eventId').GetEvent! },
    },
    ...errorResponses(400, 401, 403, 413),
  },
});

const StateChange = z.object({ eventId: z.string(), state: z.string() });

type Action = 'open' | 'pause' | 'resume' | 'close';

/**
 * Where a journey goes after each change of the sale's state: the buyer's steps once it is open, the
 * organiser's controls while paused. What anyone may read of the event is linked from the event itself.
 */
const AFTER: Record<Action, (eventId: string) => ReturnType<typeof publicEventLinks>> = {
  open: (eventId) => ({ GetEvent: publicEventLinks(eventId).GetEvent!, ...buyerEventLinks(eventId) }),
  resume: (eventId) => ({ GetEvent: publicEventLinks(eventId).GetEvent!, ...buyerEventLinks(eventId) }),
  pause: (eventId) => adminEventLinks(eventId),
  close: (eventId) => ({ ...publicEventLinks(eventId), GetAdminEvent: adminEventLinks(eventId).GetAdminEvent! }),
};

const transition = (action: Action) =>
  createRoute({
    method: 'post',
    path: `/v1/admin/events/{eventId}/${action}`,
    tags: ['Administration'],
    security: [{ admin: [] }],
    request: { params: EventIdParam },
    responses: {
      200: {
        description: 'Sale state changed',
        content: { 'application/json': { schema: StateChange } },
        links: AFTER[action]('$request.path.eventId'),
      },
      ...errorResponses(400, 401, 403, 404, 409, 413),
    },
  });

const TRANSITIONS: Record<Action, { to: EventState; from: EventState[] }> = {
  open: { to: 'open', from: ['draft', 'open'] },
  pause: { to: 'paused', from: ['open', 'paused'] },
  resume: { to: 'open', from: ['paused', 'open'] },
  // The end of the sale: from any state, and again (idempotent). Live holds run out or are bought.
  close: { to: 'closed', from: ['draft', 'open', 'paused', 'closed'] },
};

export const newEventId = () => `evt_${randomBytes(12).toString('base64url')}`;

const setLimits = createRoute({
  method: 'post',
  path: '/v1/admin/events/{eventId}/waiting-room',
  tags: ['Administration'],
  security: [{ admin: [] }],
  description:
    "Changes the waiting room's limits: pacing (the admission workflow applies it on its next tick), and the per-event " +
    'rate limits and per-address place cap (every API replica within about a second).',
  request: { params: EventIdParam, body: { content: { 'application/json': { schema: LimitsBody } }, required: true } },
  responses: {
    200: {
      description: 'Limits changed',
      content: { 'application/json': { schema: z.object({ eventId: z.string() }) } },
      links: { GetQueueProgress: publicEventLinks('$response.body#/eventId').GetQueueProgress! },
    },
    ...errorResponses(400, 401, 403, 404, 413),
  },
});

export function adminRoutes() {
  const changeState = (action: Action) =>
    router().openapi(transition(action), async (c) => {
      const { eventId } = c.req.valid('param');
      const { to, from } = TRANSITIONS[action];
      const { pool, events, control } = c.var.services;
      const { event, changed } = await setEventState(pool, eventId, to, from);
      if (!event) throw new DomainError('NOT_FOUND', `event ${eventId} does not exist`, { eventId });
      if (!changed) {
        throw new DomainError('EVENT_NOT_ON_SALE', `cannot ${action} an event that is ${event.state}`, { state: event.state });
      }
      events.forget(eventId);
      if (action === 'close') await control.close(eventId);
      else await control.onSaleState(eventId, action);
      return c.json({ eventId, state: event.state }, 200);
    });

  const app = router();
  app.use('/v1/admin/*', requireAdmin);
  return app
    .openapi(createEvent, async (c) => {
      const body = c.req.valid('json');
      const eventId = newEventId();
      const { pool, logger } = c.var.services;
      const seatCount = await withTransaction(pool, (client) =>
        insertEvent(client, {
          id: eventId,
          name: body.name,
          onSaleAt: body.onSaleAt ? new Date(body.onSaleAt) : new Date(),
          holdSeconds: body.holdSeconds,
          maxSeatsPerBuyer: body.maxSeatsPerBuyer,
          waitingRoom: body.waitingRoom,
          sections: body.sections,
          venue: body.venue ?? null,
          startsAt: body.startsAt ? new Date(body.startsAt) : null,
          description: body.description ?? null,
        }),
      );
      logger.info({ eventId, seatCount }, 'event created');
      c.set('auditDetails', { eventId, name: body.name, seatCount });
      return c.json({ eventId, seatCount }, 201);
    })
    .route('/', changeState('open'))
    .route('/', changeState('pause'))
    .route('/', changeState('resume'))
    .route('/', changeState('close'))
    .openapi(setLimits, async (c) => {
      const { eventId } = c.req.valid('param');
      const limits = c.req.valid('json');
      const { pool, events, control } = c.var.services;
      if (!(await updateWaitingRoomLimits(pool, eventId, limits))) {
        throw new DomainError('NOT_FOUND', `event ${eventId} does not exist`, { eventId });
      }
      events.forget(eventId);
      // The admission workflow paces admissions; the rate limits and place cap are read per request from the event.
      const { maxActiveCheckouts, admitPerMinute, admissionWindowSeconds } = limits;
      const pacing = Object.fromEntries(
        Object.entries({ maxActiveCheckouts, admitPerMinute, admissionWindowSeconds }).filter(([, v]) => v !== undefined),
      );
      if (Object.keys(pacing).length) await control.setLimits(eventId, pacing);
      return c.json({ eventId }, 200);
    });
}
