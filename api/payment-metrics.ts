/**
 * Refunds that have not landed, for support staff's dashboards and alerts:
 * read from Postgres at scrape time, so every API replica reports the same.
 */
import type { Pool } from 'pg';
import { Gauge } from 'prom-client';
import { pendingRefunds } from '../db/queries/payments';
import { registry } from './metrics';

let source: Pool | null = null;

async function read(): Promise<{ count: number; oldestSeconds: number } | null> {
  if (!source) return null;
  try {
    return await pendingRefunds(source);
  } catch {
    return null; // a scrape during a database outage reports the last values
  }
}

new Gauge({
  name: 'onsale_refunds_pending',
  help: 'Refunds asked for (charges without an order) that the payment provider has not yet completed',
  registers: [registry],
  async collect() {
    const r = await read();
    if (r) this.set(r.count);
  },
});

new Gauge({
  name: 'onsale_refund_pending_oldest_seconds',
  help: 'Age of the oldest refund that has not landed (0 when none)',
  registers: [registry],
  async collect() {
    const r = await read();
    if (r) this.set(r.oldestSeconds);
  },
});

/** The database the refund gauges read. */
export function watchRefunds(pool: Pool): void {
  source = pool;
}
