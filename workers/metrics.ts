/**
 * The worker's Prometheus endpoint: business metrics read off the activities
 * as they complete (queue length, admissions, holds, sales, declines, refunds,
 * outbox lag) plus the Temporal runtime's own metrics, re-served from the
 * runtime's loopback exporter so one scrape gets both. It listens on its own
 * port, never the public API's.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { outboxLagSeconds } from '../db/queries/notifications';
import type { EventLoad } from '../domain/admission';
import type { OrderView } from '../domain/checkout';
import type { Logger } from '../platform/logger';

export function createWorkerMetrics(pool: Pool) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'onsale_worker_' });
  const registers = [registry];
  const m = {
    queueLength: new Gauge({
      name: 'onsale_queue_length',
      help: 'Places handed out in the waiting room',
      labelNames: ['event_id'],
      registers,
    }),
    serving: new Gauge({ name: 'onsale_queue_serving_position', help: 'Last admitted position', labelNames: ['event_id'], registers }),
    activeHolds: new Gauge({ name: 'onsale_active_holds', help: 'Checkouts holding seats now', labelNames: ['event_id'], registers }),
    seatsAvailable: new Gauge({ name: 'onsale_seats_available', help: 'Seats free to hold', labelNames: ['event_id'], registers }),
    admissions: new Counter({
      name: 'onsale_admissions_total',
      help: 'Buyers admitted from the queue or offered seats from the waitlist',
      labelNames: ['source'],
      registers,
    }),
    holds: new Counter({ name: 'onsale_holds_total', help: 'Hold attempts by outcome', labelNames: ['outcome'], registers }),
    sales: new Counter({ name: 'onsale_orders_confirmed_total', help: 'Orders confirmed', registers }),
    tickets: new Counter({ name: 'onsale_tickets_sold_total', help: 'Seats sold', registers }),
    revenue: new Counter({ name: 'onsale_revenue_cents_total', help: 'Revenue of confirmed orders, in cents', registers }),
    declines: new Counter({
      name: 'onsale_payment_declines_total',
      help: 'Declined charges by decline code',
      labelNames: ['code'],
      registers,
    }),
    refunds: new Counter({
      name: 'onsale_refunds_total',
      help: 'Refunds: a whole order refunded by an administrator, or a charge refunded by a checkout compensation',
      labelNames: ['kind'],
      registers,
    }),
    activity: new Histogram({
      name: 'onsale_activity_duration_seconds',
      help: 'Activity execution time by type and outcome',
      labelNames: ['activity', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
  new Gauge({
    name: 'onsale_outbox_lag_seconds',
    help: 'Age of the oldest notification not yet delivered',
    registers,
    async collect() {
      this.set(await outboxLagSeconds(pool));
    },
  });

  /** What each activity's result means for the business; everything else is only timed. */
  function observe(type: string, input: Record<string, unknown>, result: unknown): void {
    const eventId = typeof input.eventId === 'string' ? input.eventId : '';
    switch (type) {
      case 'readEventLoad': {
        const load = result as EventLoad;
        m.queueLength.set({ event_id: eventId }, load.queueLength);
        m.serving.set({ event_id: eventId }, load.serving);
        m.activeHolds.set({ event_id: eventId }, load.activeHolds);
        m.seatsAvailable.set({ event_id: eventId }, load.seatsAvailable);
        return;
      }
      case 'admitThrough':
        m.admissions.inc({ source: 'queue' }, result as number);
        return;
      case 'offerWaitlist':
        m.admissions.inc({ source: 'waitlist' }, result as number);
        return;
      case 'reserveSeats':
        m.holds.inc({ outcome: 'held' });
        return;
      case 'confirmOrder': {
        const order = result as OrderView;
        m.sales.inc();
        m.tickets.inc(order.seatIds.length);
        m.revenue.inc(order.amountCents);
        return;
      }
      case 'chargePayment': {
        const charge = result as { status: string; declineCode?: string };
        if (charge.status === 'declined') m.declines.inc({ code: charge.declineCode ?? 'unknown' });
        return;
      }
      case 'refundPayment':
        m.refunds.inc({ kind: 'compensation' });
        return;
      case 'returnRefundedOrder':
        m.refunds.inc({ kind: 'order' });
        return;
    }
  }

  const failureType = (err: unknown) => (err as { type?: string }).type ?? 'error';

  const interceptor: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        const type = ctx.info.activityType;
        const end = m.activity.startTimer({ activity: type });
        try {
          const result = await next(input);
          end({ outcome: 'ok' });
          try {
            observe(type, (input.args[0] ?? {}) as Record<string, unknown>, result);
          } catch {
            // A metric never fails an activity.
          }
          return result;
        } catch (err) {
          end({ outcome: 'failed' });
          if (type === 'reserveSeats') {
            const t = failureType(err);
            m.holds.inc({ outcome: t === 'SEATS_UNAVAILABLE' ? 'unavailable' : t === 'LIMIT_EXCEEDED' ? 'limit' : 'failed' });
          }
          throw err;
        }
      },
    },
  });

  return { registry, interceptor };
}

/** Serves GET /metrics: this process's registry followed by the Temporal runtime's exporter, when reachable. */
export async function serveMetrics(opts: {
  registry: Registry;
  host: string;
  port: number;
  runtimeMetricsUrl?: string;
  logger: Logger;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    void (async () => {
      try {
        const own = await opts.registry.metrics();
        let runtime = '';
        if (opts.runtimeMetricsUrl) {
          runtime = await fetch(opts.runtimeMetricsUrl, { signal: AbortSignal.timeout(2000) })
            .then((r) => (r.ok ? r.text() : ''))
            .catch(() => '');
        }
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(`${own}\n${runtime}`);
      } catch (err) {
        opts.logger.warn({ err }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
