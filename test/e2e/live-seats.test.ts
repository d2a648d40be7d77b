/**
 * Two buyers in two browser contexts watching the same live seat map.
 */
import type { Page } from 'playwright-core';
import { createEvent, seatStatuses } from '../support/http';
import { testConfig } from '../../harness/stack';
import { clickSeat, useApiWorkerAndBrowser, newBuyerPage, openAsBuyer, seatStatus, waitForLiveMap } from './browser';

const config = testConfig();
const stack = useApiWorkerAndBrowser(config);

async function twoBuyers(eventId: string): Promise<[Page, Page]> {
  const [a, b] = await Promise.all([newBuyerPage(stack.browser), newBuyerPage(stack.browser)]);
  await Promise.all([openAsBuyer(a.page, stack.api.url, eventId, 'Alice'), openAsBuyer(b.page, stack.api.url, eventId, 'Bob')]);
  await Promise.all([waitForLiveMap(a.page), waitForLiveMap(b.page)]);
  return [a.page, b.page];
}

test('two buyers click the same seat: one holds it, the other sees it taken within a second and is told', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { name: 'Contested Seat Night' });
  const [alice, bob] = await twoBuyers(eventId);
  await clickSeat(alice, 'A-2-5');
  await clickSeat(bob, 'A-2-5');
  // Both press Hold at the same moment; the database decides.
  const holdButton = (p: Page) => p.getByRole('button', { name: /Hold 1 seat/ });
  await Promise.all([holdButton(alice).click(), holdButton(bob).click()]);
  const held = (p: Page) => p.getByRole('heading', { name: 'Your seats are held' });
  const told = (p: Page) => p.locator('.notice-error, .notice-warning').filter({ hasText: /A-2-5.*taken/ });
  const outcome = async (p: Page) => {
    await Promise.race([held(p).waitFor(), told(p).waitFor()]);
    return (await held(p).isVisible()) ? 'held' : 'taken';
  };
  const [a, b] = await Promise.all([outcome(alice), outcome(bob)]);
  expect([a, b].sort()).toEqual(['held', 'taken']);
  const loser = a === 'taken' ? alice : bob;
  expect(await seatStatus(loser, 'A-2-5')).toBe('held');
  await expect(told(loser).textContent()).resolves.toMatch(/just taken by another buyer/);
});

test('a buyer watching sees a seat turn taken within one second of another buyer holding it', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { name: 'Live Map Night' });
  const [alice, bob] = await twoBuyers(eventId);
  await clickSeat(bob, 'A-3-7'); // Bob has it selected but has not held it yet
  await clickSeat(alice, 'A-3-7');
  await alice.getByRole('button', { name: /Hold 1 seat/ }).click();
  await alice.getByRole('heading', { name: 'Your seats are held' }).waitFor();
  const heldAt = Date.now();
  await bob.waitForFunction(() => (window as any).onsaleSeatMap.statusOf('A-3-7') === 'held', undefined, { timeout: 5000 });
  const seenAfterMs = Date.now() - heldAt;
  await bob.locator('.notice-warning').filter({ hasText: 'Seat A-3-7 was just taken by another buyer' }).waitFor({ timeout: 1000 });
  expect(seenAfterMs).toBeLessThan(1000);
  await expect(bob.getByRole('list', { name: 'Selected seats' }).count()).resolves.toBe(0);
});

test('when a hold expires the seat turns available on another buyer’s map without a reload', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { name: 'Short Hold Night', holdSeconds: 30 });
  const [alice, bob] = await twoBuyers(eventId);
  await clickSeat(alice, 'A-1-1');
  await alice.getByRole('button', { name: /Hold 1 seat/ }).click();
  await alice.getByRole('heading', { name: 'Your seats are held' }).waitFor();
  await bob.waitForFunction(() => (window as any).onsaleSeatMap.statusOf('A-1-1') === 'held');
  const navigations: string[] = [];
  bob.on('framenavigated', (f) => navigations.push(f.url()));

  // The hold window is 30 s; the checkout workflow's timer releases the seat.
  await bob.waitForFunction(() => (window as any).onsaleSeatMap.statusOf('A-1-1') === 'available', undefined, {
    timeout: 90_000,
    polling: 200,
  });
  expect(navigations).toEqual([]);
  await alice
    .getByTestId('hold-expired')
    .or(alice.getByRole('heading', { name: 'Your hold has expired' }))
    .first()
    .waitFor();
  expect((await seatStatuses(stack.api.url, eventId))['A-1-1']).toBe('available');
  // Bob can now take it.
  await clickSeat(bob, 'A-1-1');
  await bob.getByRole('button', { name: /Hold 1 seat/ }).click();
  await bob.getByRole('heading', { name: 'Your seats are held' }).waitFor();
});
