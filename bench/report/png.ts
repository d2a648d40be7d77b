/**
 * A PNG of the report's headline chart, for the README: the system's Chromium
 * (never a downloaded browser) screenshots the HTML report's element.
 */
import { existsSync } from 'node:fs';

export async function renderPng(html: string, selector: string, outFile: string): Promise<string | null> {
  const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!executablePath) return 'no system Chromium at /usr/bin/chromium';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 2 });
    // The report is self-contained: nothing may be fetched while it renders.
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.setContent(html, { waitUntil: 'load' });
    await page.locator(selector).first().screenshot({ path: outFile });
    return null;
  } finally {
    await browser.close();
  }
}
