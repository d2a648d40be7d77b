/**
 * In a real browser: a buyer holds seats, pays with a card that is declined,
 * sees why and that the seats are still held, then pays with another card.
 */
import { createEvent, request, seatStatuses } from '../support/http';
import { testConfig } from '../../harness/stack';
import { clickSeat, useApiWorkerAndBrowser, newBuyerPage, openAsBuyer, screenshot, waitForLiveMap } from './browser';

const config = testConfig();
const stack = useApiWorkerAndBrowser(config);

test('a declined card shows the error, keeps the hold, and a second card succeeds', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Harbour Lights — Live',
    sections: [
      { id: 'FLOOR', name: 'Floor', rows: 12, seatsPerRow: 30, priceCents: 12500 },
      { id: 'B1', name: 'Balcony 1', rows: 10, seatsPerRow: 24, priceCents: 8500 },
      { id: 'B2', name: 'Balcony 2', rows: 10, seatsPerRow: 24, priceCents: 6000 },
    ],
  });
  const { page } = await newBuyerPage(stack.browser);
  await openAsBuyer(page, stack.api.url, eventId, 'Grace Hopper', 'grace@example.test');
  await waitForLiveMap(page);

  await clickSeat(page, 'FLOOR-3-14');
  await clickSeat(page, 'FLOOR-3-15');
  await expect(page.getByRole('list', { name: 'Selected seats' }).textContent()).resolves.toContain('FLOOR-3-15');
  await screenshot(page, 'seat-map');

  await page.getByRole('button', { name: /Hold 2 seats/ }).click();
  await page.getByRole('heading', { name: 'Your seats are held' }).waitFor();
  await expect(page.getByTestId('held-seats').textContent()).resolves.toMatch(/FLOOR-3-14.*FLOOR-3-15/);
  await expect(page.getByTestId('hold-countdown').textContent()).resolves.toMatch(/^[45]:\d\d$/);
  await screenshot(page, 'hold');

  await page.getByLabel(/Visa ending 0002/).check();
  await page.getByRole('button', { name: 'Pay $250.00' }).click();
  const error = page.getByTestId('payment-error');
  await error.waitFor({ state: 'visible' });
  await expect(error.textContent()).resolves.toMatch(/declined.*still held/);
  await screenshot(page, 'payment-declined');
  const seats = await seatStatuses(stack.api.url, eventId);
  const held = Object.keys(seats).filter((id) => seats[id] === 'held');
  expect(held.sort()).toEqual(['FLOOR-3-14', 'FLOOR-3-15']);

  await page.getByLabel(/Visa ending 4242/).check();
  await page.getByRole('button', { name: 'Pay $250.00' }).click();
  await page.getByTestId('confirmation').waitFor();
  await expect(page.getByTestId('order-seats').textContent()).resolves.toBe('FLOOR-3-14, FLOOR-3-15');
  const orderId = (await page.getByTestId('order-id').textContent())!;
  const order = await request(stack.api.url, 'GET', `/v1/orders/${orderId}`, { token: config.ADMIN_TOKEN });
  expect(order.body).toMatchObject({ status: 'confirmed', amountCents: 25000 });
  const payments = await stack.api.deps.pool.query('SELECT status FROM payments WHERE event_id = $1 ORDER BY created_at', [eventId]);
  expect(payments.rows.map((r) => r.status)).toEqual(['declined', 'succeeded']);
});
