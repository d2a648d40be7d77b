/**
 * Support staff's order tools: search an event's orders, refund one (as a
 * workflow, so it finishes whatever fails), resend a confirmation e-mail.
 */
import { createRoute } from '@hono/zod-openapi';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { enqueueNotification } from '../../db/queries/notifications';
import { findOrder, searchOrders } from '../../db/queries/orders';
import { BUYER_ID_KEY, EVENT_ID_KEY } from '../../domain/checkout';
import { DomainError, isErrorCode } from '../../domain/errors';
import { checkoutWorkflowId } from '../../domain/ids';
import { orderRefundWorkflowId } from '../../domain/order-refund';
import { orderRefund } from '../../workflows/order-refund';
import { decodeCursor, encodeCursor } from '../cursor';
import { adminActor } from '../middleware/admin-audit';
import { orderLinks, readsOnly } from '../links';
import { requireAdmin } from '../middleware/auth';
import { router } from '../router';
import { AdminOrderList, errorResponses, EventIdParam, OrderIdParam, OrderSearchQuery, RefundResult, ResendResult } from '../schemas';
import { temporalLinks } from '../temporal-links';

/** How long a refund request waits for the workflow before answering 202 (it carries on regardless). */
const REFUND_WAIT_MS = 20_000;

const listOrders = createRoute({
  method: 'get',
  path: '/v1/admin/events/{eventId}/orders',
  tags: ['Administration'],
  security: [{ admin: [] }],
  middleware: [requireAdmin] as const,
  description: "An event's orders newest first, by status, buyer id or the buyer's e-mail; page with nextCursor.",
  request: { params: EventIdParam, query: OrderSearchQuery },
  responses: {
    200: {
      description: 'A page of orders',
      content: { 'application/json': { schema: AdminOrderList } },
      links: readsOnly(orderLinks('$response.body#/orders/0/orderId')),
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

const refundOrder = createRoute({
  method: 'post',
  path: '/v1/admin/orders/{orderId}/refund',
  tags: ['Administration'],
  security: [{ admin: [] }],
  middleware: [requireAdmin] as const,
  description:
    'Refunds the whole order: the charge at the payment provider, then the seats return to sale (offered to the waitlist first) and the buyer is e-mailed. Idempotent.',
  request: { params: OrderIdParam },
  responses: {
    200: {
      description: 'Refunded',
      content: { 'application/json': { schema: RefundResult } },
      links: { GetOrder: orderLinks('$request.path.orderId').GetOrder! },
    },
    202: {
      description: 'The refund is running and will finish on its own',
      content: { 'application/json': { schema: RefundResult } },
      links: { GetOrder: orderLinks('$request.path.orderId').GetOrder! },
    },
    ...errorResponses(400, 401, 403, 404, 409, 413),
  },
});

const resendConfirmation = createRoute({
  method: 'post',
  path: '/v1/admin/orders/{orderId}/resend-confirmation',
  tags: ['Administration'],
  security: [{ admin: [] }],
  middleware: [requireAdmin] as const,
  description: 'Queues the order confirmation e-mail again. Retrying with the same X-Request-Id sends it once.',
  request: { params: OrderIdParam },
  responses: {
    202: {
      description: 'Queued',
      content: { 'application/json': { schema: ResendResult } },
      links: { GetOrder: orderLinks('$request.path.orderId').GetOrder! },
    },
    ...errorResponses(400, 401, 403, 404, 409, 413),
  },
});

function failureOf(err: WorkflowFailedError): DomainError {
  let cause: unknown = err.cause;
  while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) return new DomainError(cause.type, cause.message);
  return new DomainError('INTERNAL', 'the refund failed; see the workflow in the Temporal UI');
}

export function adminOrderRoutes() {
  return router()
    .openapi(listOrders, async (c) => {
      const { eventId } = c.req.valid('param');
      const { status, buyerId, email, cursor, limit } = c.req.valid('query');
      const { pool, events, config } = c.var.services;
      await events.event(eventId);
      const links = temporalLinks(config);
      const page = await searchOrders(pool, { eventId, status, buyerId, email, after: decodeCursor(cursor), limit });
      return c.json(
        {
          orders: page.orders.map((o) => ({
            orderId: o.orderId,
            eventId: o.eventId,
            buyerId: o.buyerId,
            email: o.email,
            status: o.status,
            seatIds: o.seatIds,
            amountCents: o.amountCents,
            createdAt: o.createdAt.toISOString(),
            refundedAt: o.refundedAt?.toISOString() ?? null,
            paymentId: o.paymentId,
            checkoutWorkflowId: checkoutWorkflowId(o.eventId, o.buyerId),
            temporalUrl: links.checkout(o.eventId, o.buyerId),
          })),
          ...(page.next && { nextCursor: encodeCursor(page.next) }),
        },
        200,
      );
    })
    .openapi(refundOrder, async (c) => {
      const { orderId } = c.req.valid('param');
      const { pool, temporal, config } = c.var.services;
      const order = await findOrder(pool, orderId);
      if (!order) throw new DomainError('NOT_FOUND', 'no such order', { orderId });
      c.set('auditDetails', { eventId: order.eventId, buyerId: order.buyerId, amountCents: order.amountCents, seatIds: order.seatIds });
      const workflowId = orderRefundWorkflowId(orderId);
      const temporalUrl = temporalLinks(config).workflow(workflowId);
      if (order.status === 'refunded') return c.json({ orderId, status: 'refunded' as const, workflowId, temporalUrl }, 200);
      const actor = adminActor(c.req.header('authorization'), c.req.header('x-admin-actor'));
      const handle = await temporal.workflow.start(orderRefund, {
        workflowId,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ orderId, actor }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: EVENT_ID_KEY, value: order.eventId },
          { key: BUYER_ID_KEY, value: order.buyerId },
        ],
        staticSummary: `Refund order ${orderId} (${order.seatIds.length} seats, ${order.amountCents} cents) for ${actor}`,
      });
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        handle.result(),
        new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), REFUND_WAIT_MS))),
      ])
        .catch((err: unknown) => {
          if (err instanceof WorkflowFailedError) throw failureOf(err);
          throw err;
        })
        .finally(() => clearTimeout(timer));
      if (!waited) return c.json({ orderId, status: 'refunding' as const, workflowId, temporalUrl }, 202);
      return c.json(
        { orderId, status: 'refunded' as const, seatIds: waited.seatIds, waitlistOffers: waited.waitlistOffers, workflowId, temporalUrl },
        200,
      );
    })
    .openapi(resendConfirmation, async (c) => {
      const { orderId } = c.req.valid('param');
      const { pool } = c.var.services;
      const order = await findOrder(pool, orderId);
      if (!order) throw new DomainError('NOT_FOUND', 'no such order', { orderId });
      c.set('auditDetails', { eventId: order.eventId, buyerId: order.buyerId });
      if (order.status !== 'confirmed') {
        throw new DomainError('ORDER_NOT_CONFIRMED', `order ${orderId} is ${order.status}; there is no confirmation to resend`, {
          status: order.status,
        });
      }
      const queued = await enqueueNotification(pool, {
        dedupeKey: `order_confirmed:${order.orderId}:resend:${c.var.requestId}`,
        buyerId: order.buyerId,
        kind: 'order_confirmed',
        payload: { orderId: order.orderId, eventId: order.eventId, seatIds: order.seatIds, amountCents: order.amountCents },
      });
      return c.json({ orderId, queued }, 202);
    });
}
