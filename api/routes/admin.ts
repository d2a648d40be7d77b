import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { withTransaction } from '../../db/pool';
import { insertEvent, setEventState, updateWaitingRoomLimits, type EventState } from '../../db/queries/events';
import type { AdmissionControl } from '../admission-control';
import { DomainError } from '../../domain/errors';
import type { AppEnv } from '../deps';
import { router } from '../router';
import type { EventsView } from '../events-view';
import { requireAdmin } from '../middleware/auth';
import { CreatedEvent, CreateEventBody, errorResponses, EventIdParam, LimitsBody } from '../schemas';

const createEvent = createRoute({
  method: 'post',
  path: '/v1/admin/events',
  tags: ['Administration'],
  security: [{ admin: [] }],
  request: { body: { content: { 'application/json': { schema: CreateEventBody } }, required: true } },
  responses: {
    201: { description: 'Created with its seats', content: { 'application/json': { schema: CreatedEvent } } },
    ...errorResponses(400, 401, 403, 413),
  },
});

const StateChange = z.object({ eventId: z.string(), state: z.string() });

const transition = (action: 'open' | 'pause' | 'resume') =>
  createRoute({
    method: 'post',
    path: `/v1/admin/events/{eventId}/${action}`,
    tags: ['Administration'],
    security: [{ admin: [] }],
    request: { params: EventIdParam },
    responses: {
      200: { description: 'Sale state changed', content: { 'application/json': { schema: StateChange } } },
      ...errorResponses(400, 401, 403, 404, 409),
    },
  });

const TRANSITIONS: Record<'open' | 'pause' | 'resume', { to: EventState; from: EventState[] }> = {
  open: { to: 'open', from: ['draft', 'open'] },
  pause: { to: 'paused', from: ['open', 'paused'] },
  resume: { to: 'open', from: ['paused', 'open'] },
};

export const newEventId = () => `evt_${randomBytes(12).toString('base64url')}`;

/** Hooks run after a sale state change, e.g. to steer the event's admission workflow. */
export type SaleStateHook = (eventId: string, action: 'open' | 'pause' | 'resume') => Promise<void>;

const setLimits = createRoute({
  method: 'post',
  path: '/v1/admin/events/{eventId}/waiting-room',
  tags: ['Administration'],
  security: [{ admin: [] }],
  description: "Changes the waiting room's limits; the admission workflow applies them on its next tick.",
  request: { params: EventIdParam, body: { content: { 'application/json': { schema: LimitsBody } }, required: true } },
  responses: {
    200: { description: 'Limits changed', content: { 'application/json': { schema: z.object({ eventId: z.string() }) } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

export function adminRoutes(events: EventsView, onSaleState: SaleStateHook = async () => undefined, control?: AdmissionControl) {
  const app = router();
  app.use('/v1/admin/*', requireAdmin);
  app.openapi(createEvent, async (c) => {
    const body = c.req.valid('json');
    const eventId = newEventId();
    const seatCount = await withTransaction(c.var.deps.pool, (client) =>
      insertEvent(client, {
        id: eventId,
        name: body.name,
        onSaleAt: body.onSaleAt ? new Date(body.onSaleAt) : new Date(),
        holdSeconds: body.holdSeconds,
        maxSeatsPerBuyer: body.maxSeatsPerBuyer,
        waitingRoom: body.waitingRoom,
        sections: body.sections,
      }),
    );
    c.var.deps.logger.info({ eventId, seatCount }, 'event created');
    return c.json({ eventId, seatCount }, 201);
  });
  for (const action of ['open', 'pause', 'resume'] as const) {
    app.openapi(transition(action), async (c) => {
      const { eventId } = c.req.valid('param');
      const { to, from } = TRANSITIONS[action];
      const { event, changed } = await setEventState(c.var.deps.pool, eventId, to, from);
      if (!event) throw new DomainError('NOT_FOUND', `event ${eventId} does not exist`, { eventId });
      if (!changed) {
        throw new DomainError('EVENT_NOT_ON_SALE', `cannot ${action} an event that is ${event.state}`, { state: event.state });
      }
      events.forget(eventId);
      await onSaleState(eventId, action);
      return c.json({ eventId, state: event.state }, 200);
    });
  }
  app.openapi(setLimits, async (c) => {
    const { eventId } = c.req.valid('param');
    const limits = c.req.valid('json');
    await events.event(eventId);
    await updateWaitingRoomLimits(c.var.deps.pool, eventId, limits);
    events.forget(eventId);
    await control?.setLimits(eventId, limits);
    return c.json({ eventId }, 200);
  });
  return app;
}
