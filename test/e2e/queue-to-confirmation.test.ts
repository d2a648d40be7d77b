/**
 * The whole journey in a real browser: the waiting room, admission, the seat
 * map, a hold, payment, the confirmation page, and the confirmation e-mail
 * delivered over SMTP to the mail catcher.
 */
import { createMailer, startOutboxRelay, type OutboxRelay } from '../../notifications/relay';
import { createLogger } from '../../platform/logger';
import { apiClient, createEvent, expectOk, newBuyer, reply, request } from '../support/http';
import { testConfig } from '../../harness/stack';
import { clickSeat, useApiWorkerAndBrowser, newBuyerPage, openAsBuyer, screenshot, waitForLiveMap } from './browser';

const config = testConfig();
let relay: OutboxRelay;
let mailer: ReturnType<typeof createMailer>;

// Declared before the stack's hooks: jest runs afterAll hooks in declaration order, and the relay
// must stop before the API's pool it polls is closed.
afterAll(async () => {
  await relay?.stop();
  mailer?.close();
});

const stack = useApiWorkerAndBrowser(config);

beforeAll(() => {
  mailer = createMailer(config.SMTP_URL);
  relay = startOutboxRelay({
    pool: stack.api.deps.pool,
    mailer,
    from: config.MAIL_FROM,
    logger: createLogger('test-relay', 'warn'),
    pollMs: 500,
  });
});

async function mailTo(address: string, subjectPart: string): Promise<{ Subject: string; Text: string }> {
  const base = process.env.MAILPIT_API_URL;
  if (!base) throw new Error('MAILPIT_API_URL is not set');
  for (let attempt = 0; attempt < 100; attempt++) {
    const res = await fetch(`${base}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}`);
    const body = (await res.json()) as { messages: { ID: string; Subject: string }[] };
    const hit = body.messages.find((m) => m.Subject.includes(subjectPart));
    if (hit) return (await (await fetch(`${base}/api/v1/message/${hit.ID}`)).json()) as { Subject: string; Text: string };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${address} about ${subjectPart}`);
}

test('a buyer goes from the waiting room to a confirmed order and receives the e-mail', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Northern Skies Tour — Arena',
    // One admission a second, so a buyer behind others sees the line move.
    waitingRoom: { enabled: true, maxActiveCheckouts: 100, admitPerMinute: 60 },
    sections: [
      { id: 'PIT', name: 'Pit', rows: 8, seatsPerRow: 40, priceCents: 19900 },
      { id: 'L1', name: 'Lower 1', rows: 20, seatsPerRow: 30, priceCents: 12900 },
      { id: 'L2', name: 'Lower 2', rows: 20, seatsPerRow: 30, priceCents: 12900 },
      { id: 'U1', name: 'Upper 1', rows: 25, seatsPerRow: 36, priceCents: 6900 },
      { id: 'U2', name: 'Upper 2', rows: 25, seatsPerRow: 36, priceCents: 6900 },
    ],
  });
  // Others are already in line.
  for (let i = 0; i < 4; i++) {
    const other = await newBuyer(stack.api.url, `Early ${i}`);
    const joined = apiClient(stack.api.url, other.token).v1.events[':eventId'].queue.$post({ param: { eventId }, json: {} });
    expectOk(await reply(joined), 201);
  }

  const email = `ada.${Date.now()}@example.test`;
  const { page } = await newBuyerPage(stack.browser);
  await openAsBuyer(page, stack.api.url, eventId, 'Ada Lovelace', email);
  await page.getByRole('heading', { name: 'You are in line' }).waitFor();
  await page.waitForFunction(() => /#\d/.test(document.querySelector('[data-testid=queue-position]')?.textContent ?? ''));
  await expect(page.getByTestId('queue-position').textContent()).resolves.toMatch(/^#\d+$/);
  await screenshot(page, 'queue');

  // Admitted: the page moves on to the seat map by itself.
  await page.getByRole('heading', { name: 'Choose your seats' }).waitFor({ timeout: 60_000 });
  await waitForLiveMap(page);
  await clickSeat(page, 'PIT-1-20');
  await clickSeat(page, 'PIT-1-21');
  await page.getByRole('button', { name: /Hold 2 seats · \$398\.00/ }).click();
  await page.getByRole('heading', { name: 'Your seats are held' }).waitFor();
  await page.getByRole('button', { name: 'Pay $398.00' }).click();
  await page.getByTestId('confirmation').waitFor();
  await screenshot(page, 'confirmation');

  const orderId = (await page.getByTestId('order-id').textContent())!;
  expect(orderId).toMatch(/^ord_/);
  await expect(page.getByTestId('order-seats').textContent()).resolves.toBe('PIT-1-20, PIT-1-21');
  const link = await page.getByTestId('temporal-link').getAttribute('href');
  const buyerId = await page.evaluate(() => JSON.parse(sessionStorage.getItem('onsale:buyer') ?? '{}').buyerId as string);
  expect(link).toBe(
    `${config.TEMPORAL_UI_URL}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(`checkout:${eventId}:${buyerId}`)}`,
  );
  const order = await request(stack.api.url, 'GET', `/v1/orders/${orderId}`, { token: config.ADMIN_TOKEN });
  expect(order.body).toMatchObject({ status: 'confirmed', buyerId, seatIds: ['PIT-1-20', 'PIT-1-21'], amountCents: 39800 });

  const mail = await mailTo(email, orderId);
  expect(mail.Subject).toContain('Your tickets are confirmed');
  expect(mail.Text).toContain('PIT-1-20');
});

test('on a phone-sized screen the seat map and the hold stay usable', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Stadium Night — 50,000 seats',
    sections: Array.from({ length: 20 }, (_, k) => ({
      id: `S${k + 1}`,
      name: `Section ${k + 1}`,
      rows: 50,
      seatsPerRow: 50,
      priceCents: [15000, 9500, 6500, 4500][k % 4]!,
    })),
  });
  const { page } = await newBuyerPage(stack.browser, { phone: true });
  await openAsBuyer(page, stack.api.url, eventId, 'Mobile Buyer');
  await waitForLiveMap(page);
  // Best available from the phone, without touching the map.
  await page.getByRole('combobox', { name: 'Seats', exact: true }).selectOption('2');
  await page.getByRole('button', { name: 'Find best seats' }).click();
  await page.getByRole('heading', { name: 'Your seats are held' }).waitFor();
  await screenshot(page, 'phone-hold');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
});
