/**
 * One server span per request, when tracing is on (platform/tracing.ts): it
 * continues the caller's trace (a W3C `traceparent` header) or starts one, and
 * is the active context while the handler runs, so the Temporal client's spans
 * (workflow start, update-with-start) and through them the workflow's and its
 * activities' spans join the same trace. Named by route, never by raw path.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type TextMapGetter } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../deps';

const fromHeaders: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

export function traceRequests() {
  const tracer = trace.getTracer('onsale-api');
  return createMiddleware<AppEnv>(async (c, next) => {
    const method = c.req.method;
    const parent = propagation.extract(context.active(), c.req.raw.headers, fromHeaders);
    const span = tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: c.req.path } },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      // Hono's error handler has already turned a thrown error into the response by now.
      const route = routePath(c);
      const status = c.res.status;
      span.updateName(`${method} ${route}`);
      span.setAttributes({ [ATTR_HTTP_ROUTE]: route, [ATTR_HTTP_RESPONSE_STATUS_CODE]: status, 'onsale.request_id': c.var.requestId });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  });
}
