/**
 * The HTTP API: composition of the resource routers, cross-cutting middleware
 * and the one error handler that maps everything to the error contract.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { DomainError } from '../domain/errors';
import { tracingEnabled } from '../platform/tracing';
import { type ApiDeps, type AppEnv, buildServices, type Services } from './deps';
import { allowedMethodsOf } from './allowed-methods';
import { errorResponse, toDomainError } from './errors';
import { edge } from './middleware/edge';
import { auditAdminActions } from './middleware/admin-audit';
import { type LoadShedder, shedLoad, shedOptionsFrom } from './middleware/shed';
import { traceRequests } from './middleware/tracing';
import { httpDuration, httpRequests } from './metrics';
import { watchRefunds } from './payment-metrics';
import { adminRoutes } from './routes/admin';
import { adminEventRoutes } from './routes/admin-events';
import { adminListRoutes } from './routes/admin-lists';
import { adminOrderRoutes } from './routes/admin-orders';
import { authenticationRoutes } from './routes/authentication';
import { checkoutRoutes } from './routes/checkout';
import { devRoutes } from './routes/dev';
import { eventListRoutes } from './routes/event-list';
import { eventRoutes } from './routes/events';
import { opsRoutes } from './routes/ops';
import { orderRoutes } from './routes/orders';
import { queueRoutes } from './routes/queue';
import { streamRoutes } from './routes/stream';
import { webRoutes } from './routes/web';
import { webhookRoutes } from './routes/webhooks';

export function createApp(
  deps: ApiDeps,
  services: Services = buildServices(deps),
  shed: LoadShedder = shedLoad(shedOptionsFrom(deps.config)),
) {
  const origins = deps.config.CORS_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);

  const app = new OpenAPIHono<AppEnv>();
  // X-Request-Id in and out: a well-formed one from the caller (or the balancer) is kept, otherwise generated.
  app.use('*', requestId({ limitLength: 128 }));
  // Tracing off (the default): no middleware at all, not a disabled one.
  if (tracingEnabled(deps.config)) app.use('*', traceRequests());
  watchRefunds(deps.pool);
  app.use('*', async (c, next) => {
    c.set('services', services);
    const started = performance.now();
    await next();
    const route = routePath(c);
    httpRequests.inc({ method: c.req.method, route, status: c.res.status });
    httpDuration.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
  });
  app.use('*', secureHeaders());
  // Requests that change something take no query parameters: an unexpected one is refused, never ignored.
  let routeMethods: ((path: string) => string[]) | null = null;
  const { outsideV1, v1 } = edge({
    cors: {
      origins,
      allowHeaders: ['Authorization', 'Content-Type', 'X-Admission-Token', 'X-Admin-Actor', 'X-Request-Id'],
      exposeHeaders: ['X-Request-Id'],
      maxAge: 600,
    },
    shed,
    refuseQuery: (c) => {
      routeMethods ??= allowedMethodsOf(app.routes);
      if (c.req.url.includes('?') && new URL(c.req.url).search.length > 1 && routeMethods(c.req.path).includes(c.req.method)) {
        return errorResponse(c, 'VALIDATION_FAILED', `${c.req.method} ${c.req.path} takes no query parameters`, {
          issues: [{ path: 'query', message: 'no query parameters are accepted here' }],
        });
      }
      return null;
    },
    bodyLimitBytes: deps.config.BODY_LIMIT_BYTES,
    onTooLarge: (c) => errorResponse(c, 'PAYLOAD_TOO_LARGE', `request bodies are limited to ${deps.config.BODY_LIMIT_BYTES} bytes`),
  });
  app.use('*', outsideV1);
  app.use('/v1/*', v1);

  app.use('/v1/admin/*', auditAdminActions);

  const routes = app
    .route('/', opsRoutes())
    .route('/', devRoutes())
    .route('/', adminRoutes())
    .route('/', eventRoutes())
    .route('/', checkoutRoutes())
    .route('/', queueRoutes(deps.config.ADMISSION_TOKEN_SECRET))
    .route('/', orderRoutes())
    .route('/', webhookRoutes())
    .route('/', adminEventRoutes())
    .route('/', adminListRoutes())
    .route('/', adminOrderRoutes())
    .route('/', eventListRoutes())
    .route('/', streamRoutes())
    .route('/', webRoutes(deps.config))
    .route('/', authenticationRoutes());

  app.openAPIRegistry.registerComponent('securitySchemes', 'buyer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'admin', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'onsale', version: '1.0.0', description: 'Ticketing for high-demand on-sales.' },
  });

  let allowedMethods: ((path: string) => string[]) | null = null;
  app.notFound((c) => {
    allowedMethods ??= allowedMethodsOf(app.routes);
    const allowed = allowedMethods(c.req.path);
    if (allowed.length && c.req.method === 'OPTIONS') {
      c.header('Allow', allowed.join(', '));
      return c.body(null, 204);
    }
    if (allowed.length && !allowed.includes(c.req.method)) {
      c.header('Allow', allowed.join(', '));
      return errorResponse(c, 'METHOD_NOT_ALLOWED', `${c.req.method} is not supported on ${c.req.path}`, { allow: allowed });
    }
    return errorResponse(c, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`);
  });
  app.onError((err, c) => {
    const domain = toDomainError(err);
    if (domain) {
      if (domain.status >= 500) deps.logger.warn({ err, path: c.req.path, requestId: c.var.requestId }, domain.message);
      return errorResponse(c, domain.code, domain.message, domain.details);
    }
    deps.logger.error({ err, path: c.req.path, requestId: c.var.requestId }, 'unhandled error');
    return errorResponse(c, 'INTERNAL', 'internal error');
  });
  return routes;
}

export type AppType = ReturnType<typeof createApp>;
export { DomainError };
