/**
 * CORS for the configured origins. Preflights (OPTIONS) go to Hono's own
 * middleware. Other requests get the same headers here, but `Vary: Origin` is
 * appended to the finished answer's headers in place: Hono's middleware adds
 * it with `c.header()` after the handler, which rebuilds a finished answer
 * around its body as a stream, and on Node that turned every JSON answer into
 * a streamed one (a third of the cost of a small request).
 */
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { addVary } from '../http-cache';

export interface CorsOptions {
  origins: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAge: number;
}

export function corsFor(opts: CorsOptions) {
  const preflight = cors({ origin: opts.origins, allowHeaders: opts.allowHeaders, exposeHeaders: opts.exposeHeaders, maxAge: opts.maxAge });
  const expose = opts.exposeHeaders.join(',');
  const allowed = new Set(opts.origins);
  return createMiddleware(async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    const origin = c.req.header('origin');
    if (origin !== undefined && allowed.has(origin)) c.header('Access-Control-Allow-Origin', origin);
    if (expose) c.header('Access-Control-Expose-Headers', expose);
    await next();
    addVary(c.res.headers, 'Origin');
  });
}
