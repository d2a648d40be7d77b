import { findPaymentByProviderRef } from '../../db/queries/payments';
import { paymentOutcomeSignal } from '../../domain/checkout';
import { DomainError } from '../../domain/errors';
import { InvalidWebhookError } from '../../payments';
import { router } from '../router';

/**
 * The payment provider's webhook: the provider verifies the signature over the
 * raw body and reads the outcome, which goes to the checkout waiting for it.
 */
export function webhookRoutes() {
  return router().post('/v1/webhooks/stripe', async (c) => {
    const deps = c.var.services;
    let outcome;
    try {
      outcome = await deps.payments.parseWebhook(await c.req.text(), c.req.header('stripe-signature'));
    } catch (err) {
      if (!(err instanceof InvalidWebhookError)) throw err;
      throw new DomainError('VALIDATION_FAILED', 'the webhook signature is missing or invalid', { reason: 'signature' });
    }
    if (!outcome) return c.json({ received: true, handled: false }, 200);
    const payment = await findPaymentByProviderRef(deps.pool, outcome.providerRef);
    if (!payment) return c.json({ received: true, handled: false }, 200);
    await deps.temporal.workflow.getHandle(payment.checkoutId).signal(paymentOutcomeSignal, {
      paymentId: payment.id,
      status: outcome.status,
      ...(outcome.declineCode && { declineCode: outcome.declineCode }),
    });
    return c.json({ received: true, handled: true }, 200);
  });
}
