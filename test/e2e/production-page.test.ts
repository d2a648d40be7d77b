/**
 * In production mode no test card and no Temporal UI link reaches a buyer:
 * the page's bootstrap carries no Temporal address, Stripe.js is loaded with
 * the configured publishable key, and the rendered page shows neither.
 * Development mode keeps both and loads nothing from Stripe.
 */
import type { Browser } from 'playwright-core';
import { createEvent, call } from '../support/http';
import { type RunningApi, startApi, testConfig } from '../../harness/stack';
import { launchBrowser, newBuyerPage } from './browser';

const prod = testConfig({
  ONSALE_MODE: 'production',
  BUYER_JWKS_URL: 'https://login.example.test/.well-known/jwks.json',
  STRIPE_PUBLISHABLE_KEY: 'pk_test_onsaleProductionPage',
});
const dev = testConfig();
let prodApi: RunningApi;
let devApi: RunningApi;
let browser: Browser;

beforeAll(async () => {
  [prodApi, devApi, browser] = await Promise.all([startApi(prod), startApi(dev), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([prodApi?.stop(), devApi?.stop()]);
});

const bootstrap = (html: string) => JSON.parse(/<script id="onsale-config" type="application\/json">(.*?)<\/script>/.exec(html)![1]!);

test('production: no Temporal link or test card in what the buyer gets; Stripe.js with the publishable key', async () => {
  const eventId = await createEvent(prodApi.url, prod.ADMIN_TOKEN);
  const res = await call(prodApi.url, 'GET', `/events/${eventId}`);
  const html = String(res.body);
  const cfg = bootstrap(html);
  expect(cfg).toMatchObject({
    mode: 'production',
    temporalUiUrl: '',
    temporalNamespace: '',
    stripePublishableKey: 'pk_test_onsaleProductionPage',
  });
  expect(html).not.toContain(prod.TEMPORAL_UI_URL);
  expect(html).not.toMatch(/pm_card_/);
  expect(html).toContain('<script src="https://js.stripe.com/v3/" defer></script>');
  expect(res.headers.get('content-security-policy')).toContain("script-src 'self' https://js.stripe.com");
  expect(res.headers.get('content-security-policy')).toContain('frame-src https://js.stripe.com');
  expect((await call(prodApi.url, 'POST', '/v1/dev/buyers', { body: {} })).status).toBe(404);

  // Rendered in Chromium (Stripe.js itself stubbed: the test machine is offline).
  const { page } = await newBuyerPage(browser);
  await page.route('https://js.stripe.com/**', (r) =>
    r.fulfill({ status: 200, contentType: 'text/javascript', body: 'window.Stripe = function () {};' }),
  );
  await page.goto(`${prodApi.url}/events/${eventId}`);
  await page.getByRole('heading', { name: /Sign in/ }).waitFor();
  const text = await page.locator('body').innerText();
  expect(text).not.toMatch(/Temporal|test card|4242|pm_card/i);
  expect(await page.locator('a[href*="/namespaces/"], input[value^="pm_card_"]').count()).toBe(0);
});

test('development: the Temporal UI address is in the bootstrap and nothing loads from Stripe', async () => {
  const res = await call(devApi.url, 'GET', '/events/evt_0123456789abcdef');
  const html = String(res.body);
  expect(bootstrap(html)).toMatchObject({ mode: 'development', temporalUiUrl: dev.TEMPORAL_UI_URL.replace(/\/+$/, '') });
  expect(html).not.toContain('js.stripe.com');
  expect(res.headers.get('content-security-policy')).not.toContain('stripe');
});
