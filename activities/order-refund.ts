/**
 * Activities of an administrator's order refund (workflows/order-refund.ts):
 * refund the charge at the provider, then mark the order refunded, put its
 * seats back on sale and queue the buyer's e-mail in one transaction.
 */
import { ApplicationFailure } from '@temporalio/common';
import { withTransaction } from '../db/pool';
import { enqueueNotification } from '../db/queries/notifications';
import { findEvent } from '../db/queries/events';
import { findOrder, markOrderRefunded } from '../db/queries/orders';
import { findPayment, markRefunded } from '../db/queries/payments';
import { returnOrderSeats } from '../db/queries/seats';
import type { ActivityDeps } from './deps';

export interface RefundableOrder {
  orderId: string;
  eventId: string;
  buyerId: string;
  paymentId: string;
  status: 'confirmed' | 'refunded';
  seatIds: string[];
  amountCents: number;
}

export function createOrderRefundActivities(deps: ActivityDeps) {
  return {
    async loadOrderForRefund(input: { orderId: string }): Promise<RefundableOrder> {
      const order = await findOrder(deps.pool, input.orderId);
      if (!order) throw ApplicationFailure.nonRetryable(`order ${input.orderId} does not exist`, 'NOT_FOUND');
      const { orderId, eventId, buyerId, paymentId, status, seatIds, amountCents } = order;
      return { orderId, eventId, buyerId, paymentId, status, seatIds, amountCents };
    },

    /**
     * Refunds the order's charge in full. The provider's idempotency key is the
     * payment's, the same one a checkout's compensation uses, so the two can
     * never refund one charge twice; a refunded payment is left alone.
     */
    async refundOrderPayment(input: { paymentId: string }): Promise<{ refundRef: string | null }> {
      const payment = await findPayment(deps.pool, input.paymentId);
      if (!payment) throw ApplicationFailure.nonRetryable(`payment ${input.paymentId} does not exist`, 'NOT_FOUND');
      if (payment.status === 'refunded') return { refundRef: null };
      if (payment.status !== 'succeeded' || !payment.providerRef) {
        throw ApplicationFailure.nonRetryable(`payment ${payment.id} is ${payment.status}; nothing to refund`, 'ORDER_NOT_CONFIRMED');
      }
      const { refundRef } = await deps.payments.refund(payment.providerRef, `refund:${payment.id}`);
      await markRefunded(deps.pool, payment.id, refundRef);
      return { refundRef };
    },

    /**
     * Marks the order refunded, frees its seats and queues the buyer's e-mail,
     * all or nothing. Idempotent: a second call changes nothing and answers the
     * same seats, so a retried workflow still offers them to the waitlist.
     */
    async returnRefundedOrder(input: { orderId: string }): Promise<{ eventId: string; seatIds: string[]; admissionWindowSeconds: number }> {
      const { order, changes } = await withTransaction(deps.pool, async (client) => {
        const order = await findOrder(client, input.orderId);
        if (!order) throw ApplicationFailure.nonRetryable(`order ${input.orderId} does not exist`, 'NOT_FOUND');
        await markOrderRefunded(client, order.orderId);
        const changes = await returnOrderSeats(client, order);
        await enqueueNotification(client, {
          dedupeKey: `order_refunded:${order.orderId}`,
          buyerId: order.buyerId,
          kind: 'order_refunded',
          payload: { orderId: order.orderId, eventId: order.eventId, seatIds: order.seatIds, amountCents: order.amountCents },
        });
        return { order, changes };
      });
      if (changes.length) {
        try {
          await deps.seatCache.apply(order.eventId, changes);
        } catch (err) {
          deps.logger.warn({ err, eventId: order.eventId }, 'seat cache update failed; readers rebuild from Postgres');
          await deps.seatCache.invalidate(order.eventId).catch(() => undefined);
        }
        // The claim gate keeps sold seats taken for good: it rebuilds from Postgres, where they are free again.
        await deps.seatClaims.invalidate(order.eventId).catch((err: unknown) => {
          deps.logger.warn({ err, eventId: order.eventId }, 'claim gate not dropped; it still shows refunded seats as sold until rebuilt');
        });
      }
      const event = await findEvent(deps.pool, order.eventId);
      return { eventId: order.eventId, seatIds: order.seatIds, admissionWindowSeconds: event?.waitingRoom.admissionWindowSeconds ?? 120 };
    },
  };
}
