/**
 * The refund of one payment: a workflow per payment (id from the payment id),
 * started by the checkout's compensation and by a success webhook that arrives
 * after the checkout gave up on the payment. No Node imports (workflow bundle).
 */

export type RefundReason = 'order_not_confirmed' | 'late_success' | 'operator';

export interface RefundInput {
  paymentId: string;
  eventId: string;
  buyerId: string;
  reason: RefundReason;
  /** What the buyer's e-mail names: the seats that could not be confirmed and the amount returned. */
  seatIds?: string[];
  amountCents?: number;
}

/**
 * `refunded`: the provider returned the money. `kept`: the payment has a
 * confirmed order, so nothing was refunded. `not_charged`: the provider never
 * completed the charge (declined or canceled), so there was nothing to refund.
 */
export type RefundResult =
  | { status: 'refunded'; paymentId: string; refundRef: string }
  | { status: 'kept'; paymentId: string; orderId: string }
  | { status: 'not_charged'; paymentId: string };

/** One refund workflow per payment, ever: a second start finds the first. */
export const refundWorkflowId = (paymentId: string) => `refund:${paymentId}`;
