/**
 * Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven
 * by playwright-core (never a downloaded browser), plus the page steps every
 * scenario shares.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { type RunningApi, type RunningWorker, startApi, startWorker } from '../../harness/stack';
import type { Config } from '../../platform/config';

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** For the whole test file: the API, a worker and the browser, started together and stopped after it. */
export function useApiWorkerAndBrowser(config: Config): {
  readonly api: RunningApi;
  readonly worker: RunningWorker;
  readonly browser: Browser;
} {
  const running = {} as { api: RunningApi; worker: RunningWorker; browser: Browser };
  beforeAll(async () => {
    [running.api, running.worker, running.browser] = await Promise.all([startApi(config), startWorker(config), launchBrowser()]);
  });
  afterAll(async () => {
    await running.browser?.close();
    await running.worker?.stop();
    await running.api?.stop();
  });
  return running;
}

export async function newBuyerPage(browser: Browser, opts: { phone?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(
    opts.phone
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 860 } },
  );
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw new Error(`page error: ${err.message}`);
  });
  return { context, page };
}

/** Saves a screenshot to docs/screenshots (linked from the README) and a copy under artifacts/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const docs = path.join(ROOT, 'docs/screenshots');
  const artifacts = path.join(ROOT, 'artifacts/screenshots');
  mkdirSync(docs, { recursive: true });
  mkdirSync(artifacts, { recursive: true });
  const file = path.join(docs, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  copyFileSync(file, path.join(artifacts, `${name}.png`));
}

/** Opens the event page and signs in as a development buyer. */
export async function openAsBuyer(page: Page, baseUrl: string, eventId: string, name: string, email?: string): Promise<void> {
  await page.goto(`${baseUrl}/events/${eventId}`);
  await page.getByLabel('Name').fill(name);
  if (email) await page.getByLabel('E-mail').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** Waits until the seat map is drawn and its live stream delivered the snapshot. */
export async function waitForLiveMap(page: Page): Promise<void> {
  await page.locator('canvas.seatmap').waitFor();
  await page.waitForFunction(() => document.body.dataset.live === 'true');
}

/** Clicks a seat on the canvas where the page draws it (hit-testing included). */
export async function clickSeat(page: Page, seatId: string): Promise<void> {
  await page.evaluate((id) => (window as any).onsaleSeatMap.reveal(id), seatId);
  await page.waitForTimeout(50); // one animation frame for the redraw
  const p = await page.evaluate((id) => (window as any).onsaleSeatMap.pointOf(id), seatId);
  if (!p) throw new Error(`seat ${seatId} is not on the map`);
  await page.mouse.click(p.x, p.y);
}

export const seatStatus = (page: Page, seatId: string) =>
  page.evaluate((id) => (window as any).onsaleSeatMap.statusOf(id) as string | null, seatId);
