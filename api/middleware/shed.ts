/**
 * Load shedding: past capacity the API answers at once with 503 UNAVAILABLE
 * and Retry-After instead of queueing requests until they time out. Two
 * signals decide, both cheap and both recovering by themselves:
 *   - requests in flight in this process above a bound (a slow backend makes
 *     them pile up; a bounded queue keeps latency bounded for the admitted);
 *   - event-loop lag above a bound (this process is out of CPU: admitting
 *     more only makes every request slower).
 * Health, readiness and metrics are never shed: operators and load balancers
 * must see an overloaded process as alive and overloaded, not dead.
 */
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../../platform/config';
import type { AppEnv } from '../deps';
import { errorResponse } from '../errors';
import { registry } from '../metrics';

export interface ShedOptions {
  /** Requests admitted at once by this process; 0 turns the bound off. */
  maxInFlight: number;
  /** Event-loop lag (ms) above which new requests are shed; 0 turns the check off. */
  maxLagMs: number;
  /** The Retry-After a shed request is told, in seconds. */
  retryAfterSeconds: number;
}

/** The shedding bounds from the validated configuration (SHED_MAX_IN_FLIGHT, SHED_MAX_LAG_MS, SHED_RETRY_AFTER_SECONDS). */
export function shedOptionsFrom(config: Pick<Config, 'SHED_MAX_IN_FLIGHT' | 'SHED_MAX_LAG_MS' | 'SHED_RETRY_AFTER_SECONDS'>): ShedOptions {
  return { maxInFlight: config.SHED_MAX_IN_FLIGHT, maxLagMs: config.SHED_MAX_LAG_MS, retryAfterSeconds: config.SHED_RETRY_AFTER_SECONDS };
}

/** Paths never shed; their descriptions (api/routes/ops.ts) list no shedding 503. */
export const NEVER_SHED: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);
const SAMPLE_MS = 50;

const shedTotal = new Counter({
  name: 'onsale_http_shed_total',
  help: 'Requests answered 503 by load shedding, by reason',
  labelNames: ['reason'],
  registers: [registry],
});
const inFlightGauge = new Gauge({ name: 'onsale_http_in_flight', help: 'Requests in flight', registers: [registry] });
const lagGauge = new Gauge({ name: 'onsale_event_loop_lag_ms', help: 'Smoothed event-loop lag (ms)', registers: [registry] });

/**
 * Event-loop lag: how late a short timer fires. A spike is kept, then decays
 * by half each sample, so one long pause sheds briefly and the process
 * re-admits load by itself once the loop is punctual again.
 */
export class LagMonitor {
  private lagMs = 0;
  private last = performance.now();
  private timer: NodeJS.Timeout | null = null;

  start(): this {
    if (this.timer) return this;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = Math.max(0, now - this.last - SAMPLE_MS);
      this.last = now;
      this.lagMs = Math.max(late, this.lagMs / 2);
      lagGauge.set(this.lagMs);
    }, SAMPLE_MS);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get current(): number {
    return this.lagMs;
  }
}

/** The shedding middleware, and its verdict for a request answered without it (GET /queue/me's fast path). */
export type LoadShedder = MiddlewareHandler<AppEnv> & {
  /** Why a request arriving now would be shed, or null. */
  overloaded(): 'in_flight' | 'event_loop_lag' | null;
};

export function shedLoad(opts: ShedOptions, lag: LagMonitor = new LagMonitor()): LoadShedder {
  let inFlight = 0;
  if (opts.maxLagMs > 0) lag.start();
  const overloaded = (): 'in_flight' | 'event_loop_lag' | null => {
    if (opts.maxInFlight > 0 && inFlight >= opts.maxInFlight) return 'in_flight';
    if (opts.maxLagMs > 0 && lag.current > opts.maxLagMs) return 'event_loop_lag';
    return null;
  };
  const middleware = createMiddleware<AppEnv>(async (c, next) => {
    if (NEVER_SHED.has(c.req.path)) return next();
    const reason = overloaded();
    if (reason) {
      shedTotal.inc({ reason });
      // Answered here, not thrown: under overload the error handler's logging would be one more cost per request.
      return errorResponse(c, 'UNAVAILABLE', 'the service is over capacity; retry shortly', {
        reason,
        retryAfterSeconds: opts.retryAfterSeconds,
      });
    }
    inFlight++;
    inFlightGauge.set(inFlight);
    try {
      // A stream counts only until its response starts: next() resolves when the headers are ready.
      await next();
    } finally {
      inFlight--;
      inFlightGauge.set(inFlight);
    }
  });
  return Object.assign(middleware, { overloaded });
}
