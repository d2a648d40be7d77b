
import type Stripe from 'stripe';
import { findPaymentByProviderRef } from '../../db/queries/payments';
import { paymentOutcomeSignal } from '../../domain/checkout';
import { DomainError } from '../../domain/errors';
import type { AppEnv } from '../deps';
import { router } from '../router';

/**
 * Stripe's webhook: verifies the signature over the raw body, then feeds the
 * payment's outcome to the checkout that is waiting for it.
 */
export function webhookRoutes() {
  return router().post('/v1/webhooks/stripe', async (c) => {
    const { deps } = c.var;
    const signature = c.req.header('stripe-signature');
    const raw = await c.req.text();
    let event: Stripe.Event;
    try {
      if (!signature) throw new Error('missing signature');
      event = await deps.stripe.webhooks.constructEventAsync(raw, signature, deps.config.STRIPE_WEBHOOK_SECRET);
    } catch {
      throw new DomainError('VALIDATION_FAILED', 'the webhook signature is missing or invalid', { reason: 'signature' });
    }
    if (event.type !== 'payment_intent.succeeded' && event.type !== 'payment_intent.payment_failed') {
      return c.json({ received: true, handled: false }, 200);
    }
    const intent = event.data.object as Stripe.PaymentIntent;
    const payment = await findPaymentByProviderRef(deps.pool, intent.id);
    if (!payment) return c.json({ received: true, handled: false }, 200);
    const succeeded = event.type === 'payment_intent.succeeded';
    await deps.temporal.workflow.getHandle(payment.checkoutId).signal(paymentOutcomeSignal, {
      paymentId: payment.id,
      status: succeeded ? 'succeeded' : 'declined',
      ...(!succeeded && { declineCode: intent.last_payment_error?.decline_code ?? 'card_declined' }),
    });
    return c.json({ received: true, handled: true }, 200);
  });
}
