/**
 * 3-D Secure as Stripe intends, through real HTTP, a real worker, Postgres and
 * stripe-mock: the purchase answers 202 requires_action, the development
 * issuer's challenge page completes it, the provider's signed webhook arrives
 * over HTTP, and a reloaded page resumes from GET /checkout.
 */
import { reconcile } from '../../db/audit';
import { checkoutWorkflowId } from '../../domain/ids';
import { createPaymentProvider } from '../../payments';
import { createEvent, newBuyer, call } from '../support/http';
import { testConfig } from '../../harness/stack';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);
jest.setTimeout(60_000);

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function holdAndAuthenticate() {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url, 'Ada');
  const hold = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { seatIds: ['A-1-1'] } });
  expect(hold.status).toBe(201);
  const purchase = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_threeDSecure2Required' },
  });
  return { eventId, buyer, holdId: hold.body.holdId as string, purchase };
}

const clean = async (eventId: string) => {
  const report = await reconcile(stack.api.deps.pool, createPaymentProvider(config, stack.api.deps.pool), {
    eventIds: [eventId],
    pendingPaymentSeconds: 0,
  });
  expect(Object.entries(report.violations).filter(([, n]) => n > 0)).toEqual([]);
  return report;
};

test('a card that needs 3-D Secure: 202 requires_action, the challenge page, the signed webhook, and the order', async () => {
  const { eventId, buyer, purchase } = await holdAndAuthenticate();
  expect(purchase.status).toBe(202);
  expect(purchase.body).toMatchObject({
    status: 'requires_action',
    paymentId: expect.stringMatching(/^pay_/),
    clientSecret: expect.stringMatching(/^pi_.+_secret_/),
    nextAction: { type: 'redirect_to_url', url: expect.stringMatching(/^\/dev\/3ds\/pi_/) },
  });

  // A page that reloads now resumes from the checkout: paying, and the action to finish.
  const resumed = await call(stack.api.url, 'GET', `/v1/events/${eventId}/checkout`, { token: buyer.token });
  expect(resumed.status).toBe(200);
  expect(resumed.body).toMatchObject({
    state: 'paying',
    hold: { seatIds: ['A-1-1'] },
    payment: { paymentId: purchase.body.paymentId, status: 'requires_action', clientSecret: purchase.body.clientSecret },
  });
  // Another buyer has no checkout here; nobody can read one without a token.
  const other = await newBuyer(stack.api.url, 'Eve');
  expect((await call(stack.api.url, 'GET', `/v1/events/${eventId}/checkout`, { token: other.token })).status).toBe(404);
  expect((await call(stack.api.url, 'GET', `/v1/events/${eventId}/checkout`)).status).toBe(401);

  // The issuer's challenge page, then the buyer confirms; the form posts back and the webhook follows.
  const url = `${purchase.body.nextAction.url}?client_secret=${encodeURIComponent(purchase.body.clientSecret)}`;
  const page = await call(stack.api.url, 'GET', url);
  expect(page.status).toBe(200);
  expect(String(page.body)).toContain('data-testid="challenge"');
  const wrongSecret = await call(stack.api.url, 'POST', purchase.body.nextAction.url.replace('/dev/', '/v1/dev/'), {
    body: { clientSecret: 'pi_x_secret_wrong', result: 'succeed' },
  });
  expect(wrongSecret.status).toBe(404);
  const done = await call(stack.api.url, 'POST', purchase.body.nextAction.url, {
    raw: new URLSearchParams({ client_secret: purchase.body.clientSecret, result: 'succeed' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(done.status).toBe(200);
  expect(String(done.body)).toContain('data-status="succeeded"');

  const confirmed = await until('the order', async () => {
    const r = await call(stack.api.url, 'GET', `/v1/events/${eventId}/checkout`, { token: buyer.token });
    return r.body.state === 'confirmed' ? r.body : undefined;
  });
  expect(confirmed).toMatchObject({ order: { status: 'confirmed', seatIds: ['A-1-1'] }, payment: { status: 'succeeded' } });
  expect(confirmed.payment.clientSecret).toBeUndefined();
  const report = await clean(eventId);
  expect(report.provider).toMatchObject({ charged: 1, refunded: 0 });
});

test('a failed authentication keeps the hold and tells the page why', async () => {
  const { eventId, buyer, purchase } = await holdAndAuthenticate();
  const done = await call(stack.api.url, 'POST', purchase.body.nextAction.url.replace('/dev/', '/v1/dev/'), {
    body: { clientSecret: purchase.body.clientSecret, result: 'fail' },
  });
  expect(done.body).toMatchObject({ status: 'failed', webhook: { delivered: true } });
  const view = await until('the decline', async () => {
    const r = await call(stack.api.url, 'GET', `/v1/events/${eventId}/checkout`, { token: buyer.token });
    return r.body.state === 'held' ? r.body : undefined;
  });
  expect(view).toMatchObject({ lastDecline: 'authentication_failed', payment: { status: 'declined' } });
  await clean(eventId);
});

test('a success webhook for a payment onsale gave up on is refunded automatically and the buyer told', async () => {
  const { eventId, buyer, purchase } = await holdAndAuthenticate();
  const { pool, temporal } = stack.api.deps;
  // The checkout gave up on the payment and is gone (as the old 3-D Secure timeout left it: declined, no order).
  await temporal.workflow.getHandle(checkoutWorkflowId(eventId, buyer.buyerId)).terminate('gave up on the payment');
  await pool.query(`UPDATE payments SET status = 'declined', decline_code = 'timed_out' WHERE id = $1`, [purchase.body.paymentId]);

  // Then the bank's success arrives, signed, over HTTP.
  const done = await call(stack.api.url, 'POST', purchase.body.nextAction.url.replace('/dev/', '/v1/dev/'), {
    body: { clientSecret: purchase.body.clientSecret, result: 'succeed' },
  });
  expect(done.body).toMatchObject({ status: 'succeeded', webhook: { delivered: true, status: 200 } });
  const status = await until('the refund', async () => {
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM payments WHERE id = $1', [purchase.body.paymentId]);
    return rows[0]!.status === 'refunded' ? rows[0]!.status : undefined;
  });
  expect(status).toBe('refunded');
  const notified = await until('the e-mail', async () => {
    const { rows } = await pool.query(`SELECT 1 FROM notifications WHERE buyer_id = $1 AND kind = 'payment_refunded'`, [buyer.buyerId]);
    return rows.length ? true : undefined;
  });
  expect(notified).toBe(true);
  // The same webhook again (Stripe delivers at least once) changes nothing.
  const again = await call(stack.api.url, 'POST', purchase.body.nextAction.url.replace('/dev/', '/v1/dev/'), {
    body: { clientSecret: purchase.body.clientSecret, result: 'succeed' },
  });
  expect(again.status).toBe(200);
  const report = await clean(eventId);
  expect(report.provider).toMatchObject({ charged: 1, refunded: 1 });
  // Support staff's gauge of refunds that have not landed is served with the other metrics.
  const metrics = await call(stack.api.url, 'GET', '/metrics', { token: config.ADMIN_TOKEN });
  expect(String(metrics.body)).toMatch(/^onsale_refunds_pending \d+$/m);
  expect(String(metrics.body)).toMatch(/^onsale_refund_pending_oldest_seconds [\d.]+$/m);
});
