/** Starting the refund workflow of a payment from outside a workflow: the webhook and the reconciliation. */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { findHold } from '../db/queries/orders';
import type { PaymentRow } from '../db/queries/payments';
import { BUYER_ID_KEY, EVENT_ID_KEY } from '../domain/checkout';
import { type RefundReason, refundWorkflowId } from '../domain/refund';

/** Idempotent: one refund workflow per payment; a running one is reused, a finished one finds the payment refunded. */
export async function startRefundWorkflow(
  deps: { temporal: Client; pool: Pool; taskQueue: string },
  payment: Pick<PaymentRow, 'id' | 'eventId' | 'buyerId' | 'holdId'>,
  reason: RefundReason,
): Promise<string> {
  const hold = await findHold(deps.pool, payment.holdId);
  const handle = await deps.temporal.workflow.start('refund', {
    workflowId: refundWorkflowId(payment.id),
    taskQueue: deps.taskQueue,
    args: [
      {
        paymentId: payment.id,
        eventId: payment.eventId,
        buyerId: payment.buyerId,
        reason,
        ...(hold && { seatIds: hold.seatIds, amountCents: hold.amountCents }),
      },
    ],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: EVENT_ID_KEY, value: payment.eventId },
      { key: BUYER_ID_KEY, value: payment.buyerId },
    ],
  });
  return handle.workflowId;
}
