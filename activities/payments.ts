import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { beginPayment, findPayment, markRefunded, settlePayment } from '../db/queries/payments';
import type { ActivityDeps } from './deps';

export interface ChargeInput {
  /** Derived from the checkout, the hold and the attempt: a retried activity reuses it. */
  idempotencyKey: string;
  checkoutId: string;
  holdId: string;
  eventId: string;
  buyerId: string;
  amountCents: number;
  paymentMethod: string;
}

export type ChargeOutcome =
  | { status: 'succeeded'; paymentId: string }
  | { status: 'declined'; paymentId: string; declineCode: string; message: string }
  | { status: 'pending'; paymentId: string };

const paymentIdFor = (key: string) => `pay_${createHash('sha256').update(key).digest('base64url').slice(0, 24)}`;

export function createPaymentActivities(deps: ActivityDeps) {
  return {
    async chargePayment(input: ChargeInput): Promise<ChargeOutcome> {
      const payment = await beginPayment(deps.pool, {
        id: paymentIdFor(input.idempotencyKey),
        idempotencyKey: input.idempotencyKey,
        checkoutId: input.checkoutId,
        holdId: input.holdId,
        eventId: input.eventId,
        buyerId: input.buyerId,
        provider: deps.payments.name,
        amountCents: input.amountCents,
        currency: deps.settings.currency,
      });
      if (payment.status === 'succeeded' || payment.status === 'refunded') {
        return { status: 'succeeded', paymentId: payment.id };
      }
      if (payment.status === 'declined') {
        return {
          status: 'declined',
          paymentId: payment.id,
          declineCode: payment.declineCode ?? 'card_declined',
          message: 'The card was declined.',
        };
      }
      const result = await deps.payments.charge({
        amountCents: input.amountCents,
        currency: deps.settings.currency,
        paymentMethod: input.paymentMethod,
        idempotencyKey: input.idempotencyKey,
        description: `onsale hold ${input.holdId}`,
        metadata: { checkoutId: input.checkoutId, holdId: input.holdId, paymentId: payment.id },
      });
      if (result.status === 'declined') {
        await settlePayment(deps.pool, payment.id, {
          status: 'declined',
          providerRef: result.providerRef,
          declineCode: result.declineCode,
        });
        return { status: 'declined', paymentId: payment.id, declineCode: result.declineCode, message: result.message };
      }
      await settlePayment(deps.pool, payment.id, { status: result.status, providerRef: result.providerRef });
      return { status: result.status, paymentId: payment.id };
    },

    /** Refunds a successful charge; a second call finds it refunded and does nothing. */
    async refundPayment(input: { paymentId: string }): Promise<void> {
      const payment = await findPayment(deps.pool, input.paymentId);
      if (!payment) throw ApplicationFailure.nonRetryable(`payment ${input.paymentId} does not exist`, 'NOT_FOUND');
      if (payment.status !== 'succeeded') return;
      if (!payment.providerRef) throw ApplicationFailure.nonRetryable('succeeded payment without provider reference');
      const { refundRef } = await deps.payments.refund(payment.providerRef, `refund:${payment.id}`);
      await markRefunded(deps.pool, payment.id, refundRef);
    },

    /** Records the outcome Stripe's webhook reported for a pending payment. */
    async recordPaymentOutcome(input: { paymentId: string; status: 'succeeded' | 'declined'; declineCode?: string }): Promise<void> {
      await settlePayment(deps.pool, input.paymentId, {
        status: input.status,
        providerRef: null,
        ...(input.declineCode && { declineCode: input.declineCode }),
      });
    },

    /** Gives up on a payment whose outcome never arrived. */
    async cancelPayment(input: { paymentId: string }): Promise<void> {
      const payment = await findPayment(deps.pool, input.paymentId);
      if (!payment || payment.status !== 'pending') return;
      if (payment.providerRef) await deps.payments.cancel(payment.providerRef, `cancel:${payment.id}`);
      await settlePayment(deps.pool, payment.id, { status: 'declined', providerRef: null, declineCode: 'timed_out' });
    },
  };
}
