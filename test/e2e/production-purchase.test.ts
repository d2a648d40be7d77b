/**
 * A production-mode purchase in Chromium: the host site hands the page a
 * buyer token signed by its own issuer (a real JWKS served on loopback), the
 * page takes it from the URL fragment and removes it from the address, the
 * buyer holds seats and pays through the Payment Element, and at no step does
 * a test card or a Temporal UI link reach the buyer. Stripe.js is stubbed (the
 * machine is offline): it creates a PaymentMethod (a Stripe test id) that the
 * API charges over Stripe's SDK against stripe-mock.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Browser } from 'playwright-core';
import { type RunningApi, type RunningWorker, startApi, startWorker, testConfig } from '../../harness/stack';
import { createEvent } from '../support/http';
import { launchBrowser, newBuyerPage } from './browser';

const STRIPE_STUB = `
window.Stripe = function (key) {
  if (!key.startsWith('pk_')) throw new Error('bad publishable key');
  var elements = {
    create: function () {
      return { mount: function (el) { var i = document.createElement('input'); i.setAttribute('aria-label', 'Card number'); el.appendChild(i); } };
    },
    submit: function () { return Promise.resolve({}); },
  };
  return {
    elements: function (o) { window.__stripeElementsOptions = o; return elements; },
    createPaymentMethod: function () { return Promise.resolve({ paymentMethod: { id: 'pm_card_visa' } }); },
  };
};`;

let jwks: http.Server;
let issuerUrl: string;
let sign: (claims: { sub: string; name: string; email: string }) => Promise<string>;
let api: RunningApi;
let worker: RunningWorker;
let browser: Browser;
let config: ReturnType<typeof testConfig>;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'host-1', alg: 'ES256', use: 'sig' };
  jwks = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  issuerUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  config = testConfig({
    ONSALE_MODE: 'production',
    BUYER_JWKS_URL: `${issuerUrl}/.well-known/jwks.json`,
    BUYER_TOKEN_ISSUER: 'https://tickets.host.test',
    STRIPE_PUBLISHABLE_KEY: 'pk_test_onsaleProductionPurchase',
    // stripe-mock answers every PaymentIntent with one fixed sample object, so the
    // charge itself goes through the development provider (still over Stripe's SDK).
    PAYMENT_PROVIDER: 'test-cards',
  });
  sign = (claims) =>
    new SignJWT({ name: claims.name, email: claims.email })
      .setProtectedHeader({ alg: 'ES256', kid: 'host-1' })
      .setSubject(claims.sub)
      .setIssuer('https://tickets.host.test')
      .setAudience('onsale-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  [api, worker, browser] = await Promise.all([startApi(config), startWorker(config), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await api?.stop();
  await new Promise((r) => jwks?.close(r));
});

test('production: handed-over sign-in, Payment Element, confirmation — no test card, no Temporal link', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, { name: 'Production night' });
  const token = await sign({ sub: 'host_buyer_42', name: 'Host Buyer', email: 'host.buyer@example.test' });
  const { page } = await newBuyerPage(browser);
  await page.route('https://js.stripe.com/**', (r) => r.fulfill({ status: 200, contentType: 'text/javascript', body: STRIPE_STUB }));
  await page.goto(`${api.url}/events/${eventId}#buyer_token=${token}`);

  // Signed in by the host's token, which left the address bar.
  await page.getByRole('button', { name: 'Find best seats' }).waitFor();
  expect(new URL(page.url()).hash).toBe('');
  await page.getByRole('combobox', { name: 'Seats', exact: true }).selectOption('2');
  await page.getByRole('button', { name: 'Find best seats' }).click();
  await page.getByRole('heading', { name: 'Your seats are held' }).waitFor();

  expect(await page.getByTestId('test-cards').count()).toBe(0);
  await page.getByTestId('payment-element').getByRole('textbox', { name: 'Card number' }).waitFor();
  expect(await page.evaluate(() => (window as unknown as { __stripeElementsOptions: unknown }).__stripeElementsOptions)).toMatchObject({
    mode: 'payment',
    currency: config.PAYMENT_CURRENCY,
  });
  expect(await page.locator('body').innerText()).not.toMatch(/test card|4242|pm_card|no real money/i);

  await page.getByRole('button', { name: /^Pay / }).click();
  await page.getByTestId('confirmation').or(page.getByTestId('payment-error')).waitFor();
  expect((await page.getByTestId('payment-error').isVisible()) ? await page.getByTestId('payment-error').innerText() : '').toBe('');
  expect(await page.getByTestId('temporal-link').count()).toBe(0);
  expect(await page.locator('body').innerText()).not.toMatch(/Temporal/i);
  const orderId = await page.getByTestId('order-id').innerText();
  const { rows } = await api.deps.pool.query<{ buyer_id: string; status: string }>('SELECT buyer_id, status FROM orders WHERE id = $1', [
    orderId,
  ]);
  expect(rows).toEqual([{ buyer_id: 'host_buyer_42', status: 'confirmed' }]);
});
