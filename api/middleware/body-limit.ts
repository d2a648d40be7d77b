/**
 * The request-body limit. A request that carries no body by HTTP/1.1 framing
 * (neither Content-Length above zero nor Transfer-Encoding) skips it, and so
 * does every later check for a body: asking the Node adapter for a request's
 * body builds a web stream over the socket even when nothing will arrive,
 * which cost a bodyless join more than the join itself.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';

export function limitBodies(maxSize: number, onError: (c: Context) => Response | Promise<Response>) {
  const limit = bodyLimit({ maxSize, onError });
  return createMiddleware(async (c, next) => {
    // Only a request read from a socket has framing headers to trust (app.request() bodies carry none).
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (incoming && incoming.headers['transfer-encoding'] === undefined && !(Number(incoming.headers['content-length']) > 0)) {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') Object.defineProperty(c.req.raw, 'body', { value: null });
      return next();
    }
    return limit(c, next);
  });
}
