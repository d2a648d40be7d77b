import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'onsale_api_' });

export const httpRequests = new Counter({
  name: 'onsale_http_requests_total',
  help: 'HTTP requests by route and status',
  labelNames: ['method', 'route', 'status'],
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'onsale_http_request_duration_seconds',
  help: 'HTTP request latency by route',
  labelNames: ['method', 'route'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

/**
 * Hold attempts by outcome, counted where they are decided: in the API, by the
 * claim gate or by the reserve behind it (held, unavailable, limit, in_progress,
 * failed). The worker counts the same name for checkouts that still reserve in
 * an activity (those started before the API reserved itself).
 */
export const holdAttempts = new Counter({
  name: 'onsale_holds_total',
  help: 'Hold attempts by outcome',
  labelNames: ['outcome'],
  registers: [registry],
});
