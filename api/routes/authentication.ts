/**
 * Development 3-D Secure: the card issuer's challenge, served by the API. The
 * buyer page opens the payment's `nextAction.url` (this page); completing it
 * moves the payment at the development provider and then delivers the
 * provider's webhook, signed with STRIPE_WEBHOOK_SECRET as Stripe signs it, over
 * HTTP to this API's own webhook endpoint: the rest of onsale cannot tell it
 * from Stripe. Off in production mode and with the real Stripe provider.
 */
import { createRoute } from '@hono/zod-openapi';
import { html } from 'hono/html';
import { DomainError } from '../../domain/errors';
import type { ProviderPayment } from '../../payments';
import { TestCardPaymentProvider } from '../../payments/test-cards';
import type { Services } from '../deps';
import { AuthenticationBody, ProviderRefParam } from '../payment-schemas';
import { router } from '../router';
import { errorResponses } from '../schemas';
import { z } from '@hono/zod-openapi';

const CHALLENGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

function issuer(services: Services): TestCardPaymentProvider {
  if (services.config.ONSALE_MODE !== 'development' || !(services.payments instanceof TestCardPaymentProvider)) {
    throw new DomainError('NOT_FOUND', 'not found');
  }
  return services.payments;
}

/** Sends the provider's signed webhook to this API, as Stripe would. */
async function deliverWebhook(provider: TestCardPaymentProvider, origin: string, payment: ProviderPayment) {
  const { payload, signature } = provider.signedWebhook(payment);
  try {
    const res = await fetch(`${origin}/v1/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload,
      signal: AbortSignal.timeout(10_000),
    });
    return { delivered: res.ok, status: res.status };
  } catch {
    // Stripe would retry; the checkout cancels at its deadline and finds the success then.
    return { delivered: false, status: 0 };
  }
}

async function complete(services: Services, origin: string, providerRef: string, body: z.infer<typeof AuthenticationBody>) {
  const provider = issuer(services);
  const payment = await provider.completeAuthentication(providerRef, body.clientSecret, body.result === 'succeed');
  if (!payment) throw new DomainError('NOT_FOUND', 'no payment waiting for authentication with this client secret');
  const webhook = body.deliverWebhook === false ? { delivered: false, status: 0 } : await deliverWebhook(provider, origin, payment);
  return { providerRef, status: payment.status, webhook };
}

const completeRoute = createRoute({
  method: 'post',
  path: '/v1/dev/3ds/{providerRef}',
  tags: ['Development'],
  description:
    "Development mode only: the card issuer's side of 3-D Secure. Completes or fails the authentication, then delivers the provider's signed webhook.",
  request: { params: ProviderRefParam, body: { content: { 'application/json': { schema: AuthenticationBody } }, required: true } },
  responses: {
    200: {
      description: 'The payment at the provider, and whether its webhook was delivered',
      content: {
        'application/json': {
          schema: z.object({
            providerRef: z.string(),
            status: z.string(),
            webhook: z.object({ delivered: z.boolean(), status: z.number() }),
          }),
        },
      },
    },
    ...errorResponses(400, 404, 413),
  },
});

const page = (title: string, body: ReturnType<typeof html>) =>
  html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          body {
            font:
              16px/1.5 system-ui,
              sans-serif;
            margin: 0;
            padding: 1.5rem;
            color: #1b1b1f;
            background: #fff;
          }
          h1 {
            font-size: 1.2rem;
            margin: 0 0 0.5rem;
          }
          .actions {
            display: flex;
            gap: 0.75rem;
            margin-top: 1rem;
            flex-wrap: wrap;
          }
          button {
            font: inherit;
            padding: 0.6rem 1.1rem;
            border-radius: 6px;
            border: 1px solid #555;
            background: #fff;
            cursor: pointer;
          }
          button.primary {
            background: #1d4ed8;
            color: #fff;
            border-color: #1d4ed8;
          }
          .note {
            color: #555;
            font-size: 0.9rem;
          }
        </style>
      </head>
      <body>
        ${body}
      </body>
    </html>`;

export function authenticationRoutes() {
  return router()
    .openapi(completeRoute, async (c) => {
      const { providerRef } = c.req.valid('param');
      return c.json(await complete(c.var.services, new URL(c.req.url).origin, providerRef, c.req.valid('json')), 200);
    })
    .get('/dev/3ds/:providerRef', (c) => {
      issuer(c.var.services);
      const ref = ProviderRefParam.safeParse({ providerRef: c.req.param('providerRef') });
      const secret = c.req.query('client_secret') ?? '';
      if (!ref.success || secret.length === 0 || secret.length > 200) throw new DomainError('NOT_FOUND', 'not found');
      c.header('Content-Security-Policy', CHALLENGE_CSP);
      c.header('Cache-Control', 'no-store');
      return c.html(
        page(
          'Confirm your payment',
          html`<main data-testid="challenge">
            <h1>Confirm this payment with your bank</h1>
            <p>Your bank asks you to confirm it is you (3-D Secure). This is the development issuer: choose an outcome.</p>
            <form method="post" action="/dev/3ds/${ref.data.providerRef}">
              <input type="hidden" name="client_secret" value="${secret}" />
              <div class="actions">
                <button class="primary" type="submit" name="result" value="succeed" data-testid="challenge-complete">
                  Confirm payment
                </button>
                <button type="submit" name="result" value="fail" data-testid="challenge-fail">Fail authentication</button>
              </div>
            </form>
            <p class="note">Payment ${ref.data.providerRef}</p>
          </main>`,
        ),
      );
    })
    .post('/dev/3ds/:providerRef', async (c) => {
      const ref = ProviderRefParam.safeParse({ providerRef: c.req.param('providerRef') });
      const form = await c.req.parseBody();
      const body = AuthenticationBody.safeParse({ clientSecret: form.client_secret, result: form.result });
      if (!ref.success || !body.success) throw new DomainError('VALIDATION_FAILED', 'invalid authentication form');
      const done = await complete(c.var.services, new URL(c.req.url).origin, ref.data.providerRef, body.data);
      c.header('Content-Security-Policy', CHALLENGE_CSP);
      const ok = done.status === 'succeeded';
      return c.html(
        page(
          ok ? 'Payment confirmed' : 'Authentication failed',
          html`<main data-testid="challenge-done" data-status="${done.status}">
            <h1>${ok ? 'Thank you: your bank confirmed the payment' : 'Your bank did not confirm the payment'}</h1>
            <p>You can return to your checkout.</p>
          </main>`,
        ),
      );
    });
}
