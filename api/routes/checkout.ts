import { createRoute, z } from '@hono/zod-openapi';
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import { findHold, findOrderByHold } from '../../db/queries/orders';
import { insertBuyer } from '../../db/queries/buyers';
import {
  BUYER_ID_KEY,
  checkoutQuery,
  EVENT_ID_KEY,
  holdUpdate,
  type HoldRequest,
  purchaseUpdate,
  releaseUpdate,
} from '../../domain/checkout';
import { DomainError } from '../../domain/errors';
import { checkoutWorkflowId } from '../../domain/ids';
import type { AppEnv, Buyer } from '../deps';
import { router } from '../router';
import { requireBuyer } from '../middleware/auth';
import { CheckoutBody, PaymentActionRequiredBody } from '../payment-schemas';
import { errorResponses, EventIdParam, HoldBody, HoldParams, HoldView, OrderResult, PurchaseBody } from '../schemas';

const hold = createRoute({
  method: 'post',
  path: '/v1/events/{eventId}/hold',
  tags: ['Holds and purchase'],
  security: [{ buyer: [] }],
  request: {
    params: EventIdParam,
    headers: z.object({ 'x-admission-token': z.string().max(2048).optional() }),
    body: { content: { 'application/json': { schema: HoldBody } }, required: true },
  },
  responses: {
    201: { description: 'Seats held', content: { 'application/json': { schema: HoldView } } },
    ...errorResponses(400, 401, 403, 404, 409, 413, 422, 429, 503),
  },
});

const release = createRoute({
  method: 'delete',
  path: '/v1/events/{eventId}/hold/{holdId}',
  tags: ['Holds and purchase'],
  security: [{ buyer: [] }],
  request: { params: HoldParams },
  responses: {
    200: {
      description: 'Released now',
      content: { 'application/json': { schema: z.object({ holdId: z.string(), status: z.literal('released') }) } },
    },
    ...errorResponses(400, 401, 404, 409, 410),
  },
});

const purchase = createRoute({
  method: 'post',
  path: '/v1/events/{eventId}/purchase',
  tags: ['Holds and purchase'],
  security: [{ buyer: [] }],
  request: { params: EventIdParam, body: { content: { 'application/json': { schema: PurchaseBody } }, required: true } },
  responses: {
    200: { description: 'Paid and confirmed', content: { 'application/json': { schema: OrderResult } } },
    202: {
      description: 'The card needs authentication (3-D Secure): the buyer completes nextAction; the outcome arrives by webhook',
      content: { 'application/json': { schema: PaymentActionRequiredBody } },
    },
    ...errorResponses(400, 401, 402, 404, 409, 410, 413, 503),
  },
});

/**
 * When a checkout workflow is gone (closed), the database says what became of
 * the hold: another buyer's or unknown → not found; ended → expired.
 */
async function holdGone(c: { var: AppEnv['Variables'] }, buyer: Buyer, eventId: string, holdId: string): Promise<never> {
  const h = await findHold(c.var.services.pool, holdId);
  if (!h || h.buyerId !== buyer.buyerId || h.eventId !== eventId) {
    throw new DomainError('HOLD_NOT_FOUND', 'no such hold for this buyer', { holdId });
  }
  throw new DomainError('HOLD_EXPIRED', 'this hold has ended', { holdId, status: h.status });
}

const checkoutView = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/checkout',
  tags: ['Holds and purchase'],
  security: [{ buyer: [] }],
  description: "The buyer's own checkout for the event, so that a page that reloads resumes where it was.",
  request: { params: EventIdParam },
  responses: {
    200: { description: 'The checkout', content: { 'application/json': { schema: CheckoutBody } } },
    ...errorResponses(400, 401, 404),
  },
});

const CHECKOUT_PER_BUYER = { limit: 20, windowMs: 10_000 };

export function checkoutRoutes() {
  const app = router();
  app.use('/v1/events/:eventId/hold', requireBuyer);
  app.use('/v1/events/:eventId/hold/*', requireBuyer);
  app.use('/v1/events/:eventId/purchase', requireBuyer);
  app.use('/v1/events/:eventId/checkout', requireBuyer);

  return app
    .openapi(hold, async (c) => {
      const { eventId } = c.req.valid('param');
      const body = c.req.valid('json');
      const buyer = c.var.buyer;
      const deps = c.var.services;
      const { events, admissions, room, limiter } = deps;
      await limiter.check('checkout', buyer.buyerId, CHECKOUT_PER_BUYER);
      const event = await events.event(eventId);
      if (event.state !== 'open' || event.onSaleAt.getTime() > Date.now()) {
        throw new DomainError('EVENT_NOT_ON_SALE', 'this event is not on sale right now', { state: event.state });
      }
      const wanted = 'seatIds' in body ? body.seatIds.length : body.quantity;
      if (wanted > event.maxSeatsPerBuyer) {
        throw new DomainError('LIMIT_EXCEEDED', `at most ${event.maxSeatsPerBuyer} seats per buyer for this event`, {
          maxSeatsPerBuyer: event.maxSeatsPerBuyer,
          requested: wanted,
        });
      }
      const admission = event.waitingRoom.enabled
        ? await admissions.verify(c.req.valid('header')['x-admission-token'], buyer.buyerId, eventId)
        : null;
      if (event.waitingRoom.enabled && !admission) {
        throw new DomainError('NOT_ADMITTED', 'a valid admission token from the waiting room is required');
      }
      await insertBuyer(deps.pool, { id: buyer.buyerId, name: buyer.name, email: buyer.email });
      const request: HoldRequest =
        'seatIds' in body
          ? { kind: 'seats', seatIds: body.seatIds }
          : { kind: 'best', quantity: body.quantity, ...(body.section && { section: body.section }) };
      const result = await deps.temporal.workflow.executeUpdateWithStart(holdUpdate, {
        args: [request],
        startWorkflowOperation: new WithStartWorkflowOperation('checkout', {
          workflowId: checkoutWorkflowId(eventId, buyer.buyerId),
          taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
          args: [{ eventId, buyerId: buyer.buyerId }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: [
            { key: EVENT_ID_KEY, value: eventId },
            { key: BUYER_ID_KEY, value: buyer.buyerId },
          ],
        }),
      });
      if (admission) {
        await admissions.consume(admission);
        await room.markUsed(eventId, buyer.buyerId);
      }
      return c.json(result, 201);
    })
    .openapi(release, async (c) => {
      const { eventId, holdId } = c.req.valid('param');
      const buyer = c.var.buyer;
      const handle = c.var.services.temporal.workflow.getHandle(checkoutWorkflowId(eventId, buyer.buyerId));
      try {
        await handle.executeUpdate(releaseUpdate, { args: [{ holdId }] });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) await holdGone(c, buyer, eventId, holdId);
        throw err;
      }
      return c.json({ holdId, status: 'released' as const }, 200);
    })
    .openapi(purchase, async (c) => {
      const { eventId } = c.req.valid('param');
      const { holdId, paymentMethod } = c.req.valid('json');
      const buyer = c.var.buyer;
      const deps = c.var.services;
      await deps.limiter.check('checkout', buyer.buyerId, CHECKOUT_PER_BUYER);
      // A purchase repeated after it succeeded answers with the same order and charges nothing.
      const existing = await findOrderByHold(deps.pool, holdId);
      if (existing && existing.buyerId === buyer.buyerId && existing.eventId === eventId) {
        const { orderId, status, seatIds, amountCents } = existing;
        return c.json({ orderId, status, seatIds, amountCents }, 200);
      }
      const handle = deps.temporal.workflow.getHandle(checkoutWorkflowId(eventId, buyer.buyerId));
      try {
        const result = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod }] });
        if (result.status === 'requires_action') return c.json(result, 202);
        return c.json(result, 200);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) await holdGone(c, buyer, eventId, holdId);
        throw err;
      }
    })
    .openapi(checkoutView, async (c) => {
      const { eventId } = c.req.valid('param');
      const handle = c.var.services.temporal.workflow.getHandle(checkoutWorkflowId(eventId, c.var.buyer.buyerId));
      let view;
      try {
        view = await handle.query(checkoutQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new DomainError('NOT_FOUND', 'no checkout for this event', { eventId });
        throw err;
      }
      const { state, hold, order, payment, lastDecline } = view;
      // The client secret is only for a payment the buyer must still act on.
      const shown = payment && (payment.status === 'requires_action' ? payment : { paymentId: payment.paymentId, status: payment.status });
      return c.json(
        { state, ...(hold && { hold }), ...(order && { order }), ...(shown && { payment: shown }), ...(lastDecline && { lastDecline }) },
        200,
      );
    });
}
