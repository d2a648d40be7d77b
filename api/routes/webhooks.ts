import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { findOrderByHold } from '../../db/queries/orders';
import { findPaymentByProviderRef, settlePayment } from '../../db/queries/payments';
import { paymentOutcomeSignal } from '../../domain/checkout';
import { DomainError } from '../../domain/errors';
import { InvalidWebhookError } from '../../payments';
import type { Services } from '../deps';
import { startRefundWorkflow } from '../refunds';
import { router } from '../router';
import { errorResponses } from '../schemas';

/** Described for the provider's integrators and the contract run; the handler reads the raw body, which the signature covers. */
const stripeWebhook = createRoute({
  method: 'post',
  path: '/v1/webhooks/stripe',
  tags: ['Payments'],
  description:
    "The payment provider's webhook (Stripe). Stripe-Signature signs the raw body with the endpoint's secret; anything " +
    'unsigned, badly signed or too old is refused with 400. Events about payments this API does not know are received and ignored.',
  request: {
    headers: z.object({ 'stripe-signature': z.string().max(4096).openapi({ description: 't=<unix time>,v1=<HMAC-SHA256 of t.body>' }) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.looseObject({ id: z.string(), type: z.string(), data: z.looseObject({ object: z.record(z.string(), z.unknown()) }) }),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'Received; handled when it was about a payment of this API',
      content: {
        'application/json': {
          schema: z.object({
            received: z.literal(true),
            handled: z.boolean(),
            refund: z.string().optional().openapi({ description: 'The refund workflow started for a success nobody waits for' }),
          }),
        },
      },
    },
    ...errorResponses(400, 413),
  },
});

async function checkoutRunning(services: Services, checkoutId: string): Promise<boolean> {
  try {
    const { status } = await services.temporal.workflow.getHandle(checkoutId).describe();
    return status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * The payment provider's webhook: the provider verifies the signature over the
 * raw body and reads the outcome. A checkout still waiting for the payment gets
 * the outcome; a success nobody waits for any more (the checkout gave up on the
 * payment, or is gone) is recorded and refunded by the refund workflow, which
 * keeps a payment that paid for an order. Idempotent: Stripe delivers at least once.
 */
export function webhookRoutes() {
  const app = router();
  app.openAPIRegistry.registerPath(stripeWebhook);
  return app.post('/v1/webhooks/stripe', async (c) => {
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
    const running = await checkoutRunning(deps, payment.checkoutId);
    if (running) {
      await deps.temporal.workflow.getHandle(payment.checkoutId).signal(paymentOutcomeSignal, {
        paymentId: payment.id,
        status: outcome.status,
        ...(outcome.declineCode && { declineCode: outcome.declineCode }),
      });
    }
    if (outcome.status !== 'succeeded' || payment.status === 'refunded') {
      return c.json({ received: true, handled: true }, 200);
    }
    // A success the checkout will not act on: it gave up on this payment (declined, e.g. timed out), or it is gone.
    const order = await findOrderByHold(deps.pool, payment.holdId);
    if (order?.paymentId === payment.id) return c.json({ received: true, handled: true }, 200);
    if (payment.status === 'declined' || !running) {
      await settlePayment(deps.pool, payment.id, { status: 'succeeded', providerRef: null });
      const refund = await startRefundWorkflow(
        { temporal: deps.temporal, pool: deps.pool, taskQueue: deps.config.TEMPORAL_TASK_QUEUE },
        payment,
        'late_success',
      );
      return c.json({ received: true, handled: true, refund }, 200);
    }
    return c.json({ received: true, handled: true }, 200);
  });
}
