/**
 * Load shedding on a real Hono app: past the in-flight bound or with a
 * stalled event loop, requests get a fast 503 UNAVAILABLE with Retry-After,
 * health checks still answer, and service resumes by itself.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../../api/deps';
import { LagMonitor, shedLoad, shedOptionsFrom } from '../../api/middleware/shed';
import { loadConfig } from '../../platform/config';

const REQUIRED = {
  DATABASE_URL: 'postgres://x@127.0.0.1/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  STRIPE_SECRET_KEY: 'sk_test_x',
  STRIPE_WEBHOOK_SECRET: 'whsec_x',
  SMTP_URL: 'smtp://127.0.0.1:25',
  ADMIN_TOKEN: 'a'.repeat(16),
  BUYER_TOKEN_SECRET: 'b'.repeat(16),
  ADMISSION_TOKEN_SECRET: 'c'.repeat(16),
};

function appWithGate(opts: { maxInFlight: number; maxLagMs: number }, lag?: LagMonitor) {
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  const app = new Hono<AppEnv>();
  app.use('*', shedLoad({ ...opts, retryAfterSeconds: 2 }, lag));
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/v1/slow', async (c) => {
    await gate;
    return c.json({ ok: true });
  });
  app.get('/v1/fast', (c) => c.json({ ok: true }));
  return {
    app,
    release() {
      open();
      gate = new Promise<void>((r) => (open = r));
    },
  };
}

test('past the in-flight bound: fast 503 with Retry-After, health still answers, then recovery', async () => {
  const { app, release } = appWithGate({ maxInFlight: 3, maxLagMs: 0 });
  const slow = [1, 2, 3].map(async () => app.request('/v1/slow'));
  await new Promise((r) => setImmediate(r));

  const shed = await app.request('/v1/fast');
  expect(shed.status).toBe(503);
  expect(shed.headers.get('retry-after')).toBe('2');
  const body = (await shed.json()) as { error: { code: string; details: { reason: string } } };
  expect(body.error.code).toBe('UNAVAILABLE');
  expect(body.error.details.reason).toBe('in_flight');
  expect((await app.request('/healthz')).status).toBe(200);

  release();
  expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200, 200]);
  expect((await app.request('/v1/fast')).status).toBe(200);
});

test('a stalled event loop sheds new requests until the loop is punctual again', async () => {
  const lag = new LagMonitor();
  const { app } = appWithGate({ maxInFlight: 0, maxLagMs: 100 }, lag);
  try {
    await new Promise((r) => setTimeout(r, 120)); // a few punctual samples first
    const until = performance.now() + 400;
    while (performance.now() < until) {
      // a synchronous stall, as a CPU-bound burst would cause
    }
    await new Promise((r) => setTimeout(r, 60)); // let the monitor observe it
    const shed = await app.request('/v1/fast');
    expect(shed.status).toBe(503);
    expect(((await shed.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('event_loop_lag');

    let status = 503;
    for (let i = 0; i < 100 && status === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await app.request('/v1/fast')).status;
    }
    expect(status).toBe(200);
  } finally {
    lag.stop();
  }
});

test('bounds come from the validated configuration, with generous defaults', () => {
  expect(shedOptionsFrom(loadConfig(REQUIRED))).toEqual({ maxInFlight: 1024, maxLagMs: 1000, retryAfterSeconds: 1 });
  expect(
    shedOptionsFrom(loadConfig({ ...REQUIRED, SHED_MAX_IN_FLIGHT: '0', SHED_MAX_LAG_MS: '250', SHED_RETRY_AFTER_SECONDS: '3' })),
  ).toEqual({
    maxInFlight: 0,
    maxLagMs: 250,
    retryAfterSeconds: 3,
  });
  expect(() => loadConfig({ ...REQUIRED, SHED_MAX_LAG_MS: '-1' })).toThrow(/SHED_MAX_LAG_MS/);
});
