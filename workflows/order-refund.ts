/**
 * An administrator refunds an order: the charge is refunded at the payment
 * provider, then the order is marked refunded, its seats return to sale and
 * the buyer is told, then the seats are offered to the event's waitlist first.
 * As a workflow it finishes whatever fails on the way (worker crash, provider
 * outage): each step retries until it succeeds and each is idempotent.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OrderRefundInput, OrderRefundResult } from '../domain/order-refund';

/** Reads and the database transaction: short, retried for as long as it takes. */
const db = proxyActivities<Pick<Activities, 'loadOrderForRefund' | 'returnRefundedOrder'>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The provider refund: money owed to a buyer is retried without limit, with the same idempotency key. */
const provider = proxyActivities<Pick<Activities, 'refundOrderPayment'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Waitlist offers are a courtesy: a few attempts, then the admission workflow's own offers take over. */
const waitlist = proxyActivities<Pick<Activities, 'offerWaitlist'>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

export async function orderRefund(input: OrderRefundInput): Promise<OrderRefundResult> {
  const order = await db.loadOrderForRefund({ orderId: input.orderId });
  await provider.refundOrderPayment({ paymentId: order.paymentId });
  const returned = await db.returnRefundedOrder({ orderId: order.orderId });
  let waitlistOffers = 0;
  if (returned.seatIds.length > 0) {
    try {
      waitlistOffers = await waitlist.offerWaitlist({
        eventId: returned.eventId,
        seats: returned.seatIds.length,
        deadlineMs: Date.now() + returned.admissionWindowSeconds * 1000,
      });
    } catch {
      // The refund is done; the admission workflow offers free seats to the waitlist on its own ticks.
    }
  }
  return { orderId: order.orderId, status: 'refunded', eventId: returned.eventId, seatIds: returned.seatIds, waitlistOffers };
}
