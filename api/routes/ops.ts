import type { Connection } from '@temporalio/client';
import { ping } from '../../db/pool';
import { router } from '../router';
import { registry } from '../metrics';
import { requireAdmin } from '../middleware/auth';

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
  return (
    router()
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
