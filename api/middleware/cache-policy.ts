/**
 * Who may cache what. A route that wants a shared cache (CDN) to keep its
 * answer says so with Cache-Control; everything else is `no-store`, and an
 * answer to a request that carried credentials is never cacheable by a shared
 * cache, whatever the route said.
 */
import { createMiddleware } from 'hono/factory';

export const cachePolicy = createMiddleware(async (c, next) => {
  await next();
  const h = c.res.headers;
  if (c.req.header('authorization') !== undefined) {
    h.set('Cache-Control', 'private, no-store');
    return;
  }
  if (!h.has('Cache-Control')) h.set('Cache-Control', 'no-store');
});
