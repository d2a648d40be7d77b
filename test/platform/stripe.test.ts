/**
 * stripe-mock (STRIPE_API_URL) speaks Stripe's API to the real Stripe SDK, so
 * payment activities are exercised without reaching Stripe.
 */
import Stripe from 'stripe';
import { requireEnv } from '../../harness/runtime';

/** The Stripe SDK pointed at STRIPE_API_URL when it is set, else at Stripe itself. */
function stripeClient(): Stripe {
  const key = requireEnv('STRIPE_SECRET_KEY');
  const apiUrl = process.env.STRIPE_API_URL;
  if (!apiUrl) return new Stripe(key, { maxNetworkRetries: 1 });
  const url = new URL(apiUrl);
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return new Stripe(key, {
    host: url.hostname,
    port: Number(url.port || (protocol === 'https' ? 443 : 80)),
    protocol,
    maxNetworkRetries: 1,
  });
}

describe('Stripe API (stripe-mock locally)', () => {
  test('a PaymentIntent is created and retrieved', async () => {
    const stripe = stripeClient();
    const created = await stripe.paymentIntents.create(
      { amount: 4200, currency: 'usd', payment_method_types: ['card'], metadata: { purpose: 'platform-test' } },
      { idempotencyKey: `platform-test-${Date.now()}` },
    );
    expect(created.id).toMatch(/^pi_/);
    expect(created.object).toBe('payment_intent');
    const retrieved = await stripe.paymentIntents.retrieve(created.id);
    expect(retrieved.object).toBe('payment_intent');
    // stripe-mock answers from fixtures: the id round-trips, amounts may not.
    expect(retrieved.id).toBe(created.id);
  });
});
