/**
 * What proof of work costs a person: the buyer page's own solver
 * (web/page/proof-of-work.ts, in the page's bundle) in Debian's Chromium on a
 * phone-sized page, with the CPU throttled 4x through the DevTools protocol
 * (Emulation.setCPUThrottlingRate) and unthrottled, alternating, on fresh
 * challenges at the same difficulty. The time is from the API's 403 that asks
 * for the work to the page's join that carries the nonce, as the page saw
 * both, by the page's Resource Timing entries. Target: at most 2 s at the default difficulty, throttled.
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx bench/pow-browser.ts [--difficulty 12] [--samples 8]
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { FAIRNESS_DEFAULTS } from '../domain/fairness';
import { HttpClient } from './lib/http';
import { benchConfig, startApiProcess } from './lib/services';
import { percentile, round } from './lib/stats';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const DIFFICULTY = arg('difficulty', FAIRNESS_DEFAULTS.powDemandDifficulty);
const SAMPLES = arg('samples', 8);
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

async function main() {
  if (!CHROMIUM) throw new Error('no system Chromium at /usr/bin/chromium');
  const config = benchConfig();
  const api = await startApiProcess(config);
  const admin = new HttpClient(api.url, 4);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-sync'],
  });
  const times: Record<'4x' | '1x', number[]> = { '4x': [], '1x': [] };
  try {
    // Before the on-sale time: the join lands in the pre-queue, so nothing else (admission, seats) is involved.
    const created = await admin.json('POST', '/v1/admin/events', {
      token: config.ADMIN_TOKEN,
      body: {
        name: 'Proof of work in the browser',
        onSaleAt: new Date(Date.now() + 3_600_000).toISOString(),
        waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60, powDifficulty: DIFFICULTY },
        sections: [{ id: 'A', name: 'Floor', rows: 1, seatsPerRow: 10, priceCents: 5000 }],
      },
    });
    const eventId: string = created.body.eventId;
    await admin.json('POST', `/v1/admin/events/${eventId}/open`, { token: config.ADMIN_TOKEN });

    for (let i = 0; i < SAMPLES * 2; i++) {
      const rate = i % 2 === 0 ? 4 : 1;
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      const sent = new Promise<void>((resolve) => {
        page.on('requestfinished', (r) => {
          if (r.method() === 'POST' && r.url().endsWith(`/events/${eventId}/queue`) && (r.postData() ?? '').includes('"pow"')) resolve();
        });
      });
      await page.goto(`${api.url}/events/${eventId}`);
      await page.getByLabel('Name').fill(`Phone ${i}`);
      await page.getByRole('button', { name: 'Continue' }).click();
      await Promise.race([sent, new Promise((_, reject) => setTimeout(() => reject(new Error('no solve in 120 s')), 120_000))]);
      // The page's own clock: from the end of the 403 that asked for the work to the start of the join that carries the nonce.
      const ms = await page.evaluate((path) => {
        const joins = performance.getEntriesByType('resource').filter((e) => e.name.endsWith(path)) as unknown as {
          startTime: number;
          responseEnd: number;
        }[];
        return joins.length >= 2 ? joins[1]!.startTime - joins[0]!.responseEnd : NaN;
      }, `/events/${eventId}/queue`);
      times[rate === 4 ? '4x' : '1x'].push(ms);
      console.error(`sample ${i}: ${rate}x throttled, ${Math.round(ms)} ms (load ${loadavg()[0]!.toFixed(2)})`);
      await context.close();
    }
  } finally {
    await browser.close();
    admin.close();
    await api.stop();
  }
  const line = (k: '4x' | '1x') => {
    const s = [...times[k]].sort((a, b) => a - b);
    const mean = s.reduce((x, y) => x + y, 0) / s.length;
    return `| ${k} | ${DIFFICULTY} | ${s.length} | ${round(mean / 1000, 2)} | ${round(percentile(s, 50) / 1000, 2)} | ${round(percentile(s, 90) / 1000, 2)} | ${round(s[s.length - 1]! / 1000, 2)} |`;
  };
  console.log(
    [
      '| CPU throttling | difficulty (bits) | samples | mean s | p50 s | p90 s | max s |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      line('4x'),
      line('1x'),
      '',
      `4x ÷ 1x (means): ${round(
        times['4x'].reduce((a, b) => a + b, 0) /
          Math.max(
            1,
            times['1x'].reduce((a, b) => a + b, 0),
          ),
        2,
      )}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
