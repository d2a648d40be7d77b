import { ApplicationFailure } from '@temporalio/common';
import { withTransaction } from '../db/pool';
import { reserveSeats as reserveQuery, releaseHold as releaseQuery, sellHeldSeats } from '../db/queries/seats';
import { findOrderByHold, findHold, insertOrder } from '../db/queries/orders';
import { enqueueNotification } from '../db/queries/notifications';
import { lockSucceededPayment } from '../db/queries/payments';
import type { HoldRequest, OrderView, Reservation } from '../domain/checkout';
import type { SeatChange } from '../domain/seats';
import type { ActivityDeps } from './deps';
import { asFailure } from './failures';

export interface ReserveSeatsInput {
  holdId: string;
  eventId: string;
  buyerId: string;
  checkoutId: string;
  request: HoldRequest;
  /** The waiting buyer has been answered by then: a reservation later than this must not commit. */
  deadlineMs?: number;
}

export interface ConfirmOrderInput {
  holdId: string;
  paymentId: string;
  orderId: string;
}

export function createSeatActivities(deps: ActivityDeps) {
  /** The cache follows Postgres; a Redis outage must not fail a committed seat change. */
  async function publish(eventId: string, changes: SeatChange[]): Promise<void> {
    try {
      await deps.seatCache.apply(eventId, changes);
    } catch (err) {
      deps.logger.warn({ err, eventId }, 'seat cache update failed; readers rebuild from Postgres');
      await deps.seatCache.invalidate(eventId).catch(() => undefined);
    }
  }

  return {
    async reserveSeats(input: ReserveSeatsInput): Promise<Reservation> {
      const { hold, changes } = await asFailure(() =>
        withTransaction(deps.pool, async (client) => {
          const reserved = await reserveQuery(client, { ...input, graceSeconds: deps.settings.holdPaymentGraceSeconds });
          if (input.deadlineMs !== undefined && Date.now() > input.deadlineMs) {
            throw new Error('the hold request timed out before its seats were reserved'); // rolls back
          }
          return reserved;
        }),
      );
      await publish(input.eventId, changes);
      return hold;
    },

    async releaseHold(input: { eventId: string; holdId: string; outcome: 'released' | 'expired' }): Promise<number> {
      const changes = await withTransaction(deps.pool, (client) => releaseQuery(client, input.holdId, input.outcome));
      await publish(input.eventId, changes);
      return changes.length;
    },

    /**
     * Creates the order, marks its seats sold, links the payment and queues the
     * confirmation e-mail, in one transaction. Fails with HOLD_LOST (final) when
     * the hold no longer owns its seats; the workflow then refunds.
     */
    async confirmOrder(input: ConfirmOrderInput): Promise<OrderView> {
      const { order, changes, eventId } = await withTransaction(deps.pool, async (client) => {
        const existing = await findOrderByHold(client, input.holdId);
        if (existing) return { order: existing, changes: [] as SeatChange[], eventId: existing.eventId };
        // Seats are only ever sold against a charge that succeeded.
        if (!(await lockSucceededPayment(client, input.paymentId, input.holdId)))
          throw ApplicationFailure.nonRetryable('the payment has not succeeded', 'PAYMENT_NOT_SETTLED');
        const hold = await findHold(client, input.holdId);
        if (!hold) throw ApplicationFailure.nonRetryable(`hold ${input.holdId} does not exist`, 'HOLD_LOST');
        const sold = await sellHeldSeats(client, input.holdId, input.orderId, hold.seatIds);
        if (!sold) {
          throw ApplicationFailure.nonRetryable('the hold no longer owns all of its seats', 'HOLD_LOST', {
            holdId: input.holdId,
          });
        }
        const order = await insertOrder(client, {
          orderId: input.orderId,
          eventId: hold.eventId,
          buyerId: hold.buyerId,
          holdId: hold.holdId,
          paymentId: input.paymentId,
          seatIds: hold.seatIds,
          amountCents: hold.amountCents,
        });
        await enqueueNotification(client, {
          dedupeKey: `order_confirmed:${order.orderId}`,
          buyerId: order.buyerId,
          kind: 'order_confirmed',
          payload: { orderId: order.orderId, eventId: order.eventId, seatIds: order.seatIds, amountCents: order.amountCents },
        });
        return { order, changes: sold, eventId: hold.eventId };
      });
      await publish(eventId, changes);
      return { orderId: order.orderId, status: 'confirmed', seatIds: order.seatIds, amountCents: order.amountCents };
    },
  };
}
