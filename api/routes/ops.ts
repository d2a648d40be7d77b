import { createRoute, z } from '@hono/zod-openapi';
import type { Connection } from '@temporalio/client';
import { ping } from '../../db/pool';
import { router } from '../router';
import { registry } from '../metrics';
import { requireAdmin } from '../middleware/auth';
import { unshedErrorResponses } from '../schemas';

// Described for operators and the contract run; served by the plain handlers below. Never shed (api/middleware/shed.ts).
const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['Operations'],
  description: 'Liveness: the process answers. Checks nothing else, so a slow dependency never gets the process restarted.',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ ok: z.literal(true) }) } } } },
});

const Readiness = z.object({
  ok: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() })),
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['Operations'],
  description: 'Readiness: Postgres, Redis and Temporal each answer within 2 s. A load balancer sends traffic only while this is 200.',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Readiness } } },
    503: {
      description: 'A dependency does not answer; the checks say which',
      headers: { 'Retry-After': { description: 'Seconds to wait before asking again', schema: { type: 'string' } } },
      content: { 'application/json': { schema: Readiness } },
    },
  },
});

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['Operations'],
  security: [{ admin: [] }],
  description: 'Prometheus metrics of this process, for scrapers holding the administrator token.',
  responses: {
    200: { description: 'The Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
    ...unshedErrorResponses(401, 403),
  },
});

async function check(name: string, fn: () => Promise<unknown>, timeoutMs = 2000) {
  const started = Date.now();
  try {
    await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref())]);
    return { name, ok: true, ms: Date.now() - started };
  } catch (err) {
    return { name, ok: false, ms: Date.now() - started, error: (err as Error).message };
  }
}

export function opsRoutes() {
  const app = router();
  for (const route of [healthz, readyz, metrics]) app.openAPIRegistry.registerPath(route);
  return (
    app
      .get('/healthz', (c) => c.json({ ok: true }, 200))
      .get('/readyz', async (c) => {
        const deps = c.var.services;
        const checks = await Promise.all([
          check('postgres', () => ping(deps.pool)),
          check('redis', () => deps.redis.ping()),
          check('temporal', () => (deps.temporal.connection as Connection).healthService.check({})),
        ]);
        const ok = checks.every((x) => x.ok);
        if (!ok) c.header('Retry-After', '1');
        return c.json({ ok, checks: Object.fromEntries(checks.map(({ name, ...r }) => [name, r])) }, ok ? 200 : 503);
      })
      // Not for the public: the API's port faces buyers, so scrapers send the admin token (Prometheus: authorization.credentials_file).
      .get('/metrics', requireAdmin, async (c) => {
        c.header('Content-Type', registry.contentType);
        return c.body(await registry.metrics(), 200);
      })
  );
}
