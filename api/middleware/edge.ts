/**
 * The middleware between the request id, metrics and secure headers and the
 * routes, folded together: CORS (/v1), load shedding, the no-query rule for
 * writes (/v1), compression, the cache policy (/v1) and the body limit (/v1),
 * nested in that order exactly as six `app.use()` layers were.
 *
 * Why: a bodyless GET such as a 304 for unchanged seat statuses did
 * nothing in four of those layers but still paid each one's dispatch, and on
 * a path that costs little more than GET /healthz that was a tenth of the
 * request. Here the common case is straight-line code, and each layer's
 * original middleware still runs wherever it has work to do: preflights (Hono's
 * CORS), requests with a body (Hono's body limit), shedding and compression.
 *
 * A Response returned by an inner step becomes the answer as Hono's compose
 * would make it (so the outer steps see it in `c.res`). Errors thrown by
 * route handlers are turned into answers inside `next()`, as before.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { AppEnv } from '../deps';
import { addVary } from '../http-cache';
import { compressAnswers } from './compress';

export interface CorsOptions {
  origins: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAge: number;
}

export interface EdgeOptions {
  cors: CorsOptions;
  /** The shedding middleware (shedLoad). */
  shed: MiddlewareHandler<AppEnv>;
  /** For a write (POST, PUT, PATCH, DELETE) on /v1: the refusal of its query parameters, or null to go on. */
  refuseQuery: (c: Context<AppEnv>) => Response | null;
  bodyLimitBytes: number;
  onTooLarge: (c: Context) => Response | Promise<Response>;
}

/** What Hono's '/v1/*' matches. */
const isV1 = (path: string) => path === '/v1' || path.startsWith('/v1/');

/** One step of a nested chain: a Response it returns becomes the answer unless one is already final. */
async function step(c: Context, mw: MiddlewareHandler, next: Next): Promise<void> {
  const r = await mw(c, next);
  if (r instanceof Response && !c.finalized) c.res = r;
}

/**
 * Two middlewares: `outsideV1` for every path (shedding and compression;
 * /v1 passes straight through it) and `v1` for /v1/*. Two registrations
 * rather than one keep the route label of answers a middleware gives itself
 * (404, preflight, 400, 413) what it was: `/v1/*` under /v1, `/*` elsewhere.
 */
export function edge(o: EdgeOptions): { outsideV1: MiddlewareHandler<AppEnv>; v1: MiddlewareHandler<AppEnv> } {
  const preflight = cors({
    origin: o.cors.origins,
    allowHeaders: o.cors.allowHeaders,
    exposeHeaders: o.cors.exposeHeaders,
    maxAge: o.cors.maxAge,
  });
  const expose = o.cors.exposeHeaders.join(',');
  const allowedOrigins = new Set(o.cors.origins);
  const compress = compressAnswers();
  const limit = bodyLimit({ maxSize: o.bodyLimitBytes, onError: o.onTooLarge });

  /**
   * The body limit. A request that carries no body by HTTP/1.1 framing (neither
   * Content-Length above zero nor Transfer-Encoding) skips it, and so does every
   * later check for a body: asking the Node adapter for a request's body builds a
   * web stream over the socket even when nothing will arrive, which cost a
   * bodyless join more than the join itself. A body with a Content-Length is
   * judged by it; only a chunked body is counted as it arrives.
   */
  const limitBodies = (c: Context, next: Next): Promise<void> => {
    // Only a request read from a socket has framing headers to trust (app.request() bodies carry none).
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (incoming && incoming.headers['transfer-encoding'] === undefined) {
      const length = Number(incoming.headers['content-length']);
      if (!(length > 0)) {
        if (c.req.method !== 'GET' && c.req.method !== 'HEAD') Object.defineProperty(c.req.raw, 'body', { value: null });
        return next();
      }
      // A body framed by Content-Length is exactly that long (Node's parser holds it to it): the header
      // decides, and the body is left for the route to read straight from the socket. Asking Hono's limit
      // would build a web Request and stream around it first, a sixth of a losing hold attempt's cost.
      if (Number.isSafeInteger(length)) {
        if (length > o.bodyLimitBytes) return step(c, async (ctx) => o.onTooLarge(ctx), next);
        return next();
      }
    }
    return step(c, limit, next);
  };

  /**
   * Who may cache what: a route that wants a shared cache to keep its answer
   * says so with Cache-Control; everything else is `no-store`, and an answer to
   * a request that carried credentials is never cacheable by a shared cache.
   */
  const cachePolicy = (c: Context) => {
    const h = c.res.headers;
    if (c.req.header('authorization') !== undefined) h.set('Cache-Control', 'private, no-store');
    else if (!h.has('Cache-Control')) h.set('Cache-Control', 'no-store');
  };

  // Only /v1 is an API for browsers on other origins, and only its answers follow the cache policy.
  const outsideV1: MiddlewareHandler<AppEnv> = (c, next) => (isV1(c.req.path) ? next() : step(c, o.shed, () => step(c, compress, next)));

  const v1: MiddlewareHandler<AppEnv> = async (c, next) => {
    const method = c.req.method;
    if (method === 'OPTIONS') return step(c, preflight, next);

    // CORS for the configured origins. Preflights go to Hono's own middleware; other requests get the same
    // headers here, and `Vary: Origin` is appended to the finished answer's headers in place: Hono's middleware
    // adds it with `c.header()` after the handler, which rebuilds a finished answer around its body as a
    // stream, and on Node that turned every JSON answer into a streamed one.
    const origin = c.req.header('origin');
    if (origin !== undefined && allowedOrigins.has(origin)) c.header('Access-Control-Allow-Origin', origin);
    if (expose) c.header('Access-Control-Expose-Headers', expose);
    const writes = method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
    await step(c, o.shed, async () => {
      const refused = writes ? o.refuseQuery(c) : null;
      if (refused) {
        if (!c.finalized) c.res = refused;
        return;
      }
      await step(c, compress, async () => {
        await limitBodies(c, next);
        cachePolicy(c);
      });
    });
    addVary(c.res.headers, 'Origin');
  };
  return { outsideV1, v1 };
}
