/** Schemas of the payment side of the contract (API.md, "Holds and purchase"): 3-D Secure and resuming a checkout. */
import { z } from '@hono/zod-openapi';
import { HoldView, OrderResult } from './schemas';

export const NextActionBody = z.object({ type: z.string(), url: z.string().optional() }).openapi('NextAction');

export const PaymentActionRequiredBody = z
  .object({
    status: z.literal('requires_action'),
    paymentId: z.string(),
    clientSecret: z.string(),
    nextAction: NextActionBody,
  })
  .openapi('PaymentActionRequired');

export const CheckoutBody = z
  .object({
    state: z.string(),
    hold: HoldView.optional(),
    order: OrderResult.optional(),
    payment: z
      .object({
        paymentId: z.string(),
        status: z.enum(['requires_action', 'succeeded', 'declined', 'refund_pending', 'refunded']),
        clientSecret: z.string().optional(),
        nextAction: NextActionBody.optional(),
      })
      .optional(),
    lastDecline: z.string().optional(),
  })
  .openapi('Checkout');

export const AuthenticationBody = z
  .object({
    clientSecret: z.string().min(1).max(200),
    result: z.enum(['succeed', 'fail']),
    /** Development faults: `false` completes the authentication but loses the webhook. */
    deliverWebhook: z.boolean().optional(),
  })
  .strict()
  .openapi('DevAuthentication');

export const ProviderRefParam = z.object({
  providerRef: z
    .string()
    .regex(/^pi_[A-Za-z0-9_]{4,64}$/, 'not a payment intent id')
    .openapi({ param: { name: 'providerRef', in: 'path' } }),
});
