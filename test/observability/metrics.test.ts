/**
 * The worker as deployed (workers/main.ts in its own process) serves business
 * metrics and the Temporal runtime's metrics on its own port; the API's
 * /metrics is not open to the public; request ids go in and out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { createEvent, newBuyer, call } from '../support/http';
import { type RunningApi, startApi, testConfig, workflowBundle } from '../../harness/stack';

const ROOT = path.resolve(__dirname, '../..');
const config = testConfig({ TEMPORAL_TASK_QUEUE: `test-metrics-${randomUUID()}` });
let api: RunningApi;
let worker: ChildProcess;
let metricsUrl: string;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  const [port, runtimePort, bundle] = await Promise.all([freePort(), freePort(), workflowBundle()]);
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['workers/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      WORKER_METRICS_PORT: String(port),
      TEMPORAL_METRICS_PORT: String(runtimePort),
      WORKFLOW_BUNDLE_PATH: bundle.codePath,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${log}`)), 90_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (log.includes('worker started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    worker.stdout!.on('data', onData);
    worker.stderr!.on('data', onData);
    worker.once('exit', (code) => reject(new Error(`worker exited ${code}:\n${log}`)));
  });
  api = await startApi(config);
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
  }
  await api?.stop();
});

const value = (text: string, line: RegExp) => {
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').pop()) : undefined;
};

test("the worker's /metrics has business and Temporal runtime metrics", async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(api.url, 'Metric Buyer');
  const hold = await call(api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { seatIds: ['A-1-1'] } });
  expect(hold.status).toBe(201);
  const taken = await call(api.url, 'POST', `/v1/events/${eventId}/hold`, {
    token: (await newBuyer(api.url, 'Second')).token,
    body: { seatIds: ['A-1-1'] },
  });
  expect(taken.status).toBe(409);
  const declined = await call(api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_chargeDeclined' },
  });
  expect(declined.status).toBe(402);
  const paid = await call(api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect(paid.status).toBe(200);

  // Hold attempts are decided in the API (the claim gate and the reserve behind it), and counted there.
  const apiMetrics = String((await call(api.url, 'GET', '/metrics', { token: config.ADMIN_TOKEN })).body);
  expect(value(apiMetrics, /^onsale_holds_total\{outcome="held"\}/)).toBe(1);
  expect(value(apiMetrics, /^onsale_holds_total\{outcome="unavailable"\}/)).toBe(1);

  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(value(text, /^onsale_orders_confirmed_total /)).toBe(1);
  expect(value(text, /^onsale_tickets_sold_total /)).toBe(1);
  expect(value(text, /^onsale_revenue_cents_total /)).toBe(5000);
  expect(value(text, /^onsale_payment_declines_total\{code="generic_decline"\}/)).toBe(1);
  expect(text).toMatch(/^onsale_outbox_lag_seconds \d/m);
  expect(text).toMatch(/^onsale_activity_duration_seconds_bucket\{.*activity="confirmOrder"/m);
  // The Temporal runtime's own metrics, re-served on the same endpoint.
  expect(text).toMatch(/^temporal_\w+/m);
  expect(value(text, /^temporal_workflow_task_execution_latency_seconds_count\{/) ?? 0).toBeGreaterThan(0);
  // Nothing but /metrics on that port.
  expect((await fetch(metricsUrl.replace('/metrics', '/'))).status).toBe(404);
});

test("the API's /metrics needs the admin token, and request ids go in and out", async () => {
  const open = await call(api.url, 'GET', '/metrics');
  expect(open.status).toBe(401);
  const wrong = await call(api.url, 'GET', '/metrics', { token: 'not-the-admin-token-at-all' });
  expect(wrong.status).toBe(401);
  const buyer = await call(api.url, 'GET', '/metrics', { token: (await newBuyer(api.url)).token });
  expect(buyer.status).toBe(403);
  const ok = await call(api.url, 'GET', '/metrics', { token: config.ADMIN_TOKEN });
  expect(ok.status).toBe(200);
  expect(String(ok.body)).toContain('onsale_http_requests_total');

  const kept = await call(api.url, 'GET', '/healthz', { headers: { 'x-request-id': 'lb-7f3a-0001' } });
  expect(kept.headers.get('x-request-id')).toBe('lb-7f3a-0001');
  const made = await call(api.url, 'GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
  expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});
