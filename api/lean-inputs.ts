/**
 * Path and header validation for the hottest routes (seat statuses and
 * layout, join, /queue/me) without zod-openapi's per-request validators. For
 * headers those read every request header into a new object before parsing
 * the one the route declares, and both parse asynchronously: together a sixth
 * of a 304's cost. Here each declared value is read by name and parsed with
 * the same zod schema, synchronously, and a failure is the same 400
 * VALIDATION_FAILED as everywhere else. The route's documentation is
 * registered unchanged and `c.req.valid()` returns what it always did; a
 * JSON body, if the route takes one, is still validated by zod-openapi.
 */
import type { RouteConfig } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { validationFailed } from './router';

type ObjectSchema = z.ZodObject;

function reader(target: 'param' | 'header', schema: ObjectSchema): MiddlewareHandler {
  const keys = Object.keys(schema.shape);
  return async (c, next) => {
    const value: Record<string, string> = {};
    for (const key of keys) {
      const v = target === 'param' ? c.req.param(key) : c.req.header(key);
      if (v !== undefined) value[key] = v;
    }
    const result = schema.safeParse(value);
    if (!result.success) validationFailed(target, result.error.issues);
    c.req.addValidatedData(target, result.data);
    await next();
  };
}

/**
 * The route to pass to `.openapi()` on `app`: its path parameters and headers
 * are checked by the lean readers (after the route's own middleware, as
 * zod-openapi would), everything else as before. Typed as the original, so
 * the typed client and `c.req.valid()` see no difference.
 */
export function lean<R extends RouteConfig>(app: Pick<OpenAPIHono, 'openAPIRegistry'>, route: R): R {
  const { middleware, hide: _hide, ...doc } = route;
  app.openAPIRegistry.registerPath(doc);
  const { params, headers, ...request } = route.request ?? {};
  if (request.query || request.cookies) throw new Error(`lean(${route.path}): only path parameters and headers are read lean`);
  const own = middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware];
  const readers = [
    ...(params ? [reader('param', params as ObjectSchema)] : []),
    ...(headers ? [reader('header', headers as ObjectSchema)] : []),
  ];
  return { ...route, request, middleware: [...own, ...readers], hide: true };
}
