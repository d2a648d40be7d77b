/**
 * The refund of one payment, retried for as long as it takes. One workflow per
 * payment (id from the payment id), started by the checkout's compensation and
 * by a success webhook that arrives after the checkout gave up on the payment.
 * Support staff find it by CheckoutState = refund_pending while the provider
 * is down; the activity refunds only what paid for no order.
 */
import { log, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { CHECKOUT_STATE_KEY } from '../domain/checkout';
import type { RefundInput, RefundResult } from '../domain/refund';

/**
 * No schedule-to-close and no attempt limit: a refund never gives up. Back-off
 * tops out at ten minutes, so a provider back after an outage is retried soon.
 */
const refunds = proxyActivities<Pick<Activities, 'refundPayment'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: ['NOT_FOUND'] },
});

const notifications = proxyActivities<Pick<Activities, 'notifyBuyer'>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function refund(input: RefundInput): Promise<RefundResult> {
  upsertSearchAttributes([{ key: CHECKOUT_STATE_KEY, value: 'refund_pending' }]);
  const result = await refunds.refundPayment({ paymentId: input.paymentId });
  if (result.status === 'refunded') {
    // The buyer is told once per payment, whichever path asked for the refund.
    await notifications.notifyBuyer({
      dedupeKey: `payment_refunded:${input.paymentId}`,
      buyerId: input.buyerId,
      kind: 'payment_refunded',
      payload: {
        eventId: input.eventId,
        paymentId: input.paymentId,
        reason: input.reason,
        seatIds: input.seatIds ?? [],
        amountCents: input.amountCents ?? 0,
      },
    });
  } else {
    log.info('nothing to refund', { paymentId: input.paymentId, outcome: result.status });
  }
  upsertSearchAttributes([{ key: CHECKOUT_STATE_KEY, value: result.status === 'kept' ? 'confirmed' : 'refunded' }]);
  return result;
}
