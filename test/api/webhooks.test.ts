/** Stripe's webhook: the signature is verified over the raw body before anything happens. */
import Stripe from 'stripe';
import { errorOf, request } from '../support/http';
import { type RunningApi, startApi, testConfig } from '../../harness/stack';

const config = testConfig();
let api: RunningApi;

beforeAll(async () => {
  api = await startApi(config);
});

afterAll(async () => {
  await api?.stop();
});

const payload = JSON.stringify({
  id: 'evt_test_webhook',
  object: 'event',
  type: 'payment_intent.succeeded',
  data: { object: { id: 'pi_unknown_to_onsale', object: 'payment_intent' } },
});

test('a correctly signed event is accepted', async () => {
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: config.STRIPE_WEBHOOK_SECRET });
  const r = await request(api.url, 'POST', '/v1/webhooks/stripe', { raw: payload, headers: { 'stripe-signature': header } });
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ received: true, handled: false });
});

test('a bad, missing or stale signature is rejected with 400 VALIDATION_FAILED', async () => {
  const wrongSecret = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_the_secret' });
  const stale = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: config.STRIPE_WEBHOOK_SECRET,
    timestamp: Math.floor(Date.now() / 1000) - 3600,
  });
  const good = Stripe.webhooks.generateTestHeaderString({ payload, secret: config.STRIPE_WEBHOOK_SECRET });
  const cases: Record<string, string>[] = [
    {},
    { 'stripe-signature': wrongSecret },
    { 'stripe-signature': stale },
    { 'stripe-signature': 't=1,v1=abc' },
  ];
  for (const headers of cases) {
    const r = await request(api.url, 'POST', '/v1/webhooks/stripe', { raw: payload, headers });
    expect({ status: r.status, code: errorOf(r)?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  }
  // The body is part of what is signed: a changed body fails with a genuine header.
  const r = await request(api.url, 'POST', '/v1/webhooks/stripe', {
    raw: payload.replace('succeeded', 'payment_failed'),
    headers: { 'stripe-signature': good },
  });
  expect(r.status).toBe(400);
});
