import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { findHold, findOrderByHold } from '../../db/queries/orders';
import { checkoutQuery, type HoldRequest, purchaseUpdate, releaseUpdate } from '../../domain/checkout';
import { DomainError } from '../../domain/errors';
import { seatLimit, seatLimitRefusal } from '../../domain/fairness';
import { checkoutWorkflowId } from '../../domain/ids';
import { startHeldCheckout } from '../../services/held-checkout';
import { rateLimited } from '../../services/rate-limit';
import type { AppEnv, Buyer } from '../deps';
import { holdAttempts } from '../metrics';
import { router } from '../router';
import { holdLinks, orderLinks } from '../links';
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
    201: { description: 'Seats held', content: { 'application/json': { schema: HoldView } }, links: holdLinks() },
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
    ...errorResponses(400, 401, 404, 409, 410, 413),
  },
});

const purchase = createRoute({
  method: 'post',
  path: '/v1/events/{eventId}/purchase',
  tags: ['Holds and purchase'],
  security: [{ buyer: [] }],
  request: { params: EventIdParam, body: { content: { 'application/json': { schema: PurchaseBody } }, required: true } },
  responses: {
    200: {
      description: 'Paid and confirmed',
      content: { 'application/json': { schema: OrderResult } },
      links: {
        ...orderLinks('$response.body#/orderId'),
        GetCheckout: holdLinks().GetCheckout!,
      },
    },
    202: {
      description: 'The card needs authentication (3-D Secure): the buyer completes nextAction; the outcome arrives by webhook',
      content: { 'application/json': { schema: PaymentActionRequiredBody } },
      links: { GetCheckout: holdLinks().GetCheckout! },
    },
    ...errorResponses(400, 401, 402, 404, 409, 410, 413, 429, 503),
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

/** onsale_holds_total's outcome for an answered hold attempt. */
function holdOutcome(status: number, err: unknown): string {
  if (status === 201) return 'held';
  const code = err instanceof DomainError ? err.code : undefined;
  switch (code) {
    case 'SEATS_UNAVAILABLE':
      return 'unavailable';
    case 'LIMIT_EXCEEDED':
      return 'limit';
    case 'CHECKOUT_IN_PROGRESS':
      return 'in_progress';
    case 'RATE_LIMITED':
      return 'rate_limited';
    case 'NOT_ADMITTED':
      return 'not_admitted';
    default:
      return status >= 500 ? 'failed' : 'refused';
  }
}

const CHECKOUT_PER_BUYER = { limit: 20, windowMs: 10_000 };
/** Hold attempts per buyer per event, counted by the claim gate's own Lua call. */
const HOLD_PER_BUYER = { limit: 20, windowMs: 10_000 };

export function checkoutRoutes() {
  const app = router();
  // Per method, so an unsupported method on these paths answers 405 rather than 401.
  app.on('POST', '/v1/events/:eventId/hold', requireBuyer, async (c, next) => {
    await next();
    holdAttempts.inc({ outcome: holdOutcome(c.res.status, c.error) });
  });
  app.on('DELETE', '/v1/events/:eventId/hold/:holdId', requireBuyer);
  app.on('POST', '/v1/events/:eventId/purchase', requireBuyer);
  app.on('GET', '/v1/events/:eventId/checkout', requireBuyer);

  return app
    .openapi(hold, async (c) => {
      const { eventId } = c.req.valid('param');
      const body = c.req.valid('json');
      const buyer = c.var.buyer;
      const deps = c.var.services;
      const { events, admissions, room } = deps;
      const event = await events.event(eventId);
      if (event.state !== 'open' || event.onSaleAt.getTime() > Date.now()) {
        throw new DomainError('EVENT_NOT_ON_SALE', 'this event is not on sale right now', { state: event.state });
      }
      const count = 'seatIds' in body ? body.seatIds.length : body.quantity;
      // An unverified or risky account may take fewer seats (unverifiedSeatLimit).
      const limit = seatLimit(event.maxSeatsPerBuyer, event.waitingRoom, buyer, deps.config.BUYER_TOKEN_VERIFIES_PEOPLE);
      const refusal = seatLimitRefusal(event.maxSeatsPerBuyer, limit, count);
      if (refusal) throw refusal;
      const admission = event.waitingRoom.enabled
        ? await admissions.verify(c.req.valid('header')['x-admission-token'], buyer.buyerId, eventId)
        : null;
      if (event.waitingRoom.enabled && !admission) {
        throw new DomainError('NOT_ADMITTED', 'a valid admission token from the waiting room is required');
      }
      const wanted: HoldRequest =
        'seatIds' in body
          ? { kind: 'seats', seatIds: body.seatIds }
          : { kind: 'best', quantity: body.quantity, ...(body.section && { section: body.section }) };
      // The claim gate: one Lua call in Redis. A losing attempt ends here, without Temporal or Postgres.
      const holdId = `hold_${randomUUID().replaceAll('-', '')}`;
      const ttlMs = (event.holdSeconds + deps.config.HOLD_PAYMENT_GRACE_SECONDS) * 1000;
      // The buyer's attempts are counted in the same call (HOLD_PER_BUYER, per event).
      const claim = await deps.seatClaims.claim(eventId, holdId, wanted, ttlMs, { buyerId: buyer.buyerId, limit: HOLD_PER_BUYER });
      if (claim.kind === 'limited') throw rateLimited('hold', HOLD_PER_BUYER, claim.retryAfterMs);
      if (claim.kind === 'taken') {
        throw new DomainError('SEATS_UNAVAILABLE', 'some of these seats are not available', { seatIds: claim.seatIds });
      }
      if (claim.kind === 'none') {
        throw new DomainError('SEATS_UNAVAILABLE', `${wanted.kind === 'best' ? wanted.quantity : 0} seats are not available together`, {
          quantity: wanted.kind === 'best' ? wanted.quantity : 0,
          section: wanted.kind === 'best' ? (wanted.section ?? null) : null,
        });
      }
      if (claim.kind === 'unknown') throw new DomainError('NOT_FOUND', 'unknown seats for this event', { seatIds: claim.seatIds });
      if (claim.kind === 'unknown_section') {
        const section = wanted.kind === 'best' ? wanted.section : undefined;
        throw new DomainError('NOT_FOUND', `unknown section ${section ?? ''}`, { section });
      }
      // Claimed: the database takes exactly the claimed seats, under the claim's id. Passed: the database decides.
      // A verified person's accounts share one maxSeatsPerBuyer, and a smaller allowance is counted against
      // what the account already bought: the database counts both at the reserve.
      const person = {
        ...(buyer.verifiedIdentity && { verifiedIdentity: buyer.verifiedIdentity }),
        ...(limit.reason && { maxSeats: limit.allowance }),
      };
      const request: HoldRequest =
        claim.kind === 'claimed' ? { kind: 'seats', seatIds: claim.seatIds, ...person } : { ...wanted, ...person };
      let result;
      try {
        await deps.knownBuyers.ensure(buyer);
        result = await startHeldCheckout(
          { temporal: deps.temporal, taskQueue: deps.config.TEMPORAL_TASK_QUEUE, holds: deps.seatHolds, logger: deps.logger },
          { eventId, buyerId: buyer.buyerId, holdId, request },
        );
      } catch (err) {
        // Refused (taken, over the limit, or this buyer's checkout already holds seats) or not started: the
        // claim ends with the attempt, and the database holds nothing for it.
        if (claim.kind === 'claimed') await deps.seatClaims.drop(eventId, holdId).catch(() => undefined);
        throw err;
      }
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
      const confirmedOrder = async () => {
        const existing = await findOrderByHold(deps.pool, holdId);
        if (existing?.status !== 'confirmed' || existing.buyerId !== buyer.buyerId || existing.eventId !== eventId) return null;
        const { orderId, seatIds, amountCents } = existing;
        return { orderId, status: 'confirmed' as const, seatIds, amountCents };
      };
      const before = await confirmedOrder();
      if (before) return c.json(before, 200);
      const handle = deps.temporal.workflow.getHandle(checkoutWorkflowId(eventId, buyer.buyerId));
      try {
        const result = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod }] });
        if (result.status === 'requires_action') return c.json(result, 202);
        return c.json(result, 200);
      } catch (err) {
        // A duplicate sent alongside a purchase that confirmed (and ended the checkout) in the meantime.
        const after = await confirmedOrder();
        if (after) return c.json(after, 200);
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
