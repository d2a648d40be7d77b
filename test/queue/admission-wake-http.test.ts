/**
 * The sleeping admission controller through real HTTP and a real worker on
 * the Temporal dev server: a join storm into a quiet event wakes it with at
 * most one signal a second (counted in the workflow's history), the buyers
 * are admitted, and closing the event ends the workflow and refuses joins.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { admissionWorkflowId } from '../../domain/ids';
import { createBuyerTokens } from '../../services/buyer-tokens';
import { queueKeys } from '../../services/waiting-room';
import { createEvent, call } from '../support/http';
import { type RunningApi, type RunningWorker, startApi, startWorker, testConfig } from '../../harness/stack';

jest.setTimeout(180_000);

const config = testConfig({ TRUST_PROXY_HOPS: '1' });
let api: RunningApi;
let worker: RunningWorker;
const tokens = createBuyerTokens({ mode: 'development', secret: config.BUYER_TOKEN_SECRET, issuer: config.BUYER_TOKEN_ISSUER });

beforeAll(async () => {
  api = await startApi(config);
  worker = await startWorker(config);
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
});

let counter = 0;
async function buyer() {
  const n = ++counter;
  const buyerId = `byr_wake${String(n).padStart(8, '0')}`;
  const token = await tokens.issue!({ buyerId, name: `Buyer ${n}`, email: `wake${n}@buyers.onsale.test` });
  return { buyerId, token, ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` };
}
type Buyer = Awaited<ReturnType<typeof buyer>>;

const join = (eventId: string, b: Buyer) =>
  call(api.url, 'POST', `/v1/events/${eventId}/queue`, { token: b.token, headers: { 'x-forwarded-for': b.ip } });
const me = (eventId: string, b: Buyer) =>
  call(api.url, 'GET', `/v1/events/${eventId}/queue/me`, { token: b.token, headers: { 'x-forwarded-for': b.ip } });

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const asleep = (eventId: string) =>
  waitFor(
    () => api.deps.redis.exists(queueKeys(eventId).asleep),
    (n) => n === 1,
  );

const SIGNALED = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;
async function signalTimes(handle: WorkflowHandle): Promise<number[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events
    .filter((e) => e.eventType === SIGNALED)
    .map((e) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
}

test('a join storm into a quiet event wakes its controller with at most one signal a second', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, {
    waitingRoom: { enabled: true, maxActiveCheckouts: 1000, admitPerMinute: 60_000, powDemandDifficulty: 0 },
    sections: [{ id: 'A', name: 'A', rows: 10, seatsPerRow: 100, priceCents: 5000 }],
  });
  const handle = api.deps.temporal.workflow.getHandle(admissionWorkflowId(eventId));
  // Opened with nobody waiting: the controller records that it sleeps.
  expect(await asleep(eventId)).toBe(1);
  expect(await signalTimes(handle)).toEqual([]);

  const buyers = await Promise.all(Array.from({ length: 900 }, buyer));
  const started = Date.now();
  // Three waves of 300 concurrent joins, half a second apart.
  const waves: Promise<Awaited<ReturnType<typeof join>>[]>[] = [];
  for (let w = 0; w < 3; w++) {
    waves.push(Promise.all(buyers.slice(w * 300, (w + 1) * 300).map((b) => join(eventId, b))));
    await new Promise((r) => setTimeout(r, 500));
  }
  const joined = (await Promise.all(waves)).flat();
  const spanMs = Date.now() - started;
  expect(joined.map((r) => r.status)).toEqual(buyers.map(() => 201));

  const first = buyers.find((_, i) => joined[i]!.body.position === 1)!;
  const admitted = await waitFor(
    () => me(eventId, first),
    (r) => r.body.status === 'admitted',
  );
  expect(admitted.body.status).toBe('admitted');
  const progress = await waitFor(
    () => call(api.url, 'GET', `/v1/events/${eventId}/queue/progress`),
    (r) => r.body.servingPosition === 900,
  );
  expect(progress.body.servingPosition).toBe(900);

  const signals = await signalTimes(handle);
  console.log(`wake-up signals for 900 joins over ${spanMs} ms: ${signals.length}`);
  expect(signals.length).toBeGreaterThanOrEqual(1);
  expect(signals.length).toBeLessThanOrEqual(Math.ceil(spanMs / 1000));
  // Once awake with admissions outstanding, the controller is not asleep, so the storm sent exactly one.
  expect(signals.length).toBe(1);
  expect(await api.deps.redis.exists(queueKeys(eventId).asleep)).toBe(0);
});

test('close ends the sale: the admission workflow completes and joins answer 409 EVENT_NOT_ON_SALE', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, {
    waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60_000 },
  });
  const handle = api.deps.temporal.workflow.getHandle(admissionWorkflowId(eventId));
  await asleep(eventId);
  const early = await buyer();
  expect((await join(eventId, early)).status).toBe(201);

  const closed = await call(api.url, 'POST', `/v1/admin/events/${eventId}/close`, { token: config.ADMIN_TOKEN });
  expect(closed.status).toBe(200);
  expect(closed.body).toEqual({ eventId, state: 'closed' });
  const result = (await handle.result()) as { closed: boolean };
  expect(result.closed).toBe(true);
  expect((await handle.describe()).status.name).toBe('COMPLETED');

  const late = await buyer();
  const refused = await join(eventId, late);
  expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 409, code: 'EVENT_NOT_ON_SALE' });
  expect(await api.deps.redis.hexists(queueKeys(eventId).places, late.buyerId)).toBe(0);
  const progress = await call(api.url, 'GET', `/v1/events/${eventId}/queue/progress`);
  expect(progress.status).toBe(409);

  // Closing again is harmless; pausing or reopening a closed sale is refused.
  expect((await call(api.url, 'POST', `/v1/admin/events/${eventId}/close`, { token: config.ADMIN_TOKEN })).status).toBe(200);
  const reopen = await call(api.url, 'POST', `/v1/admin/events/${eventId}/open`, { token: config.ADMIN_TOKEN });
  expect({ status: reopen.status, code: reopen.body.error?.code }).toEqual({ status: 409, code: 'EVENT_NOT_ON_SALE' });
  expect((await call(api.url, 'POST', `/v1/admin/events/evt_doesnotexist0000/close`, { token: config.ADMIN_TOKEN })).status).toBe(404);
});
