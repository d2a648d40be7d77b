import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { withTransaction } from '../db/pool';
import { sellHeldSeats } from '../db/queries/seats';
import { findOrderByHold, findHold, insertOrder } from '../db/queries/orders';
import { enqueueNotification } from '../db/queries/notifications';
import { lockSucceededPayment } from '../db/queries/payments';
import type { OrderView, Reservation } from '../domain/checkout';
import type { SeatChange } from '../domain/seats';
import { type ReserveHoldInput, SeatHolds } from '../services/seat-holds';
import type { ActivityDeps } from './deps';
import { asFailure } from './failures';

/**
 * How long ago, by this worker's clock, the workflow asked for this local
 * activity. The workflow's clock stands still while its task runs, at about
 * that moment, so the window it sets is what the database had left plus this:
 * each a duration on one clock, never two clocks compared. (A normal activity
 * is scheduled on the server's clock: nothing to add.)
 */
function sinceScheduled(): number {
  try {
    const info = Context.current().info;
    return info.isLocal ? Math.max(0, Date.now() - info.scheduledTimestampMs) : 0;
  } catch {
    return 0; // called outside an activity (tests, tools)
  }
}

export type ReserveSeatsInput = ReserveHoldInput;

export interface ConfirmOrderInput {
  holdId: string;
  paymentId: string;
  orderId: string;
}

export function createSeatActivities(deps: ActivityDeps) {
  const holds = new SeatHolds({ ...deps, graceSeconds: deps.settings.holdPaymentGraceSeconds });

  return {
    /**
     * One round trip to Postgres (reserve_hold). Answers, besides the hold, the
     * window left by the database's clock, which the workflow's timer runs.
     */
    async reserveSeats(input: ReserveSeatsInput): Promise<Reservation> {
      const hold = await asFailure(() => holds.reserve(input));
      return { ...hold, windowLeftMs: hold.windowLeftMs + sinceScheduled() };
    },

    async releaseHold(input: { eventId: string; holdId: string; outcome: 'released' | 'expired' }): Promise<number> {
      return await holds.release(input);
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
      await holds.publish(eventId, changes);
      try {
        await deps.seatClaims.sold(eventId, input.holdId, order.seatIds);
      } catch (err) {
        // The gate may then think these seats free: Postgres refuses them.
        deps.logger.warn({ err, eventId }, 'claim gate not told of a sale');
      }
      return { orderId: order.orderId, status: 'confirmed', seatIds: order.seatIds, amountCents: order.amountCents };
    },
  };
}
