/**
 * Real clocks at the edge of a hold: Postgres's, the worker's and the
 * provider's, with no time skipping. A payment that starts one second before
 * the window ends and takes longer than the database's grace either confirms
 * or is never charged: the hold is extended in Postgres before the charge, so
 * no other buyer can take the seats while the provider answers.
 */
import { reconcile } from '../../db/audit';
import { createPaymentProvider } from '../../payments';
import { FaultProxy } from '../../scripts/faults/proxy';
import { createEvent, newBuyer, call } from '../support/http';
import { type RunningApi, type RunningWorker, startApi, startWorker, testConfig } from '../../harness/stack';

jest.setTimeout(120_000);

const GRACE_SECONDS = 2;
const proxy = new FaultProxy(process.env.STRIPE_API_URL ?? 'http://127.0.0.1:12111');
let config: ReturnType<typeof testConfig>;
let api: RunningApi;
let worker: RunningWorker;

beforeAll(async () => {
  const url = await proxy.start();
  config = testConfig({ STRIPE_API_URL: url, HOLD_PAYMENT_GRACE_SECONDS: String(GRACE_SECONDS) });
  api = await startApi(config);
  worker = await startWorker(config);
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
  await proxy.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

test('a payment started one second before expiry that outlasts the grace confirms, and nobody else gets the seat meanwhile', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, { holdSeconds: 30 });
  const buyer = await newBuyer(api.url, 'Late');
  const rival = await newBuyer(api.url, 'Rival');
  const hold = await call(api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { seatIds: ['A-1-1'] } });
  expect(hold.status).toBe(201);
  const expiresAt = Date.parse(hold.body.expiresAt);

  await sleep(expiresAt - 1000 - Date.now());
  // The provider now takes three times the grace to answer.
  proxy.delayMs = GRACE_SECONDS * 3000;
  const purchase = call(api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  // Past the window and the grace the database first gave the hold, while the charge is in flight.
  await sleep(expiresAt + GRACE_SECONDS * 1000 + 1500 - Date.now());
  const taken = await call(api.url, 'POST', `/v1/events/${eventId}/hold`, { token: rival.token, body: { seatIds: ['A-1-1'] } });
  expect(taken.status).toBe(409);

  const paid = await purchase;
  proxy.delayMs = 0;
  expect(paid.status).toBe(200);
  expect(paid.body).toMatchObject({ status: 'confirmed', seatIds: ['A-1-1'] });
  const { rows } = await api.deps.pool.query(`SELECT status FROM seats WHERE event_id = $1 AND seat_id = 'A-1-1'`, [eventId]);
  expect(rows[0].status).toBe('sold');
  const report = await reconcile(api.deps.pool, createPaymentProvider(config, api.deps.pool), { eventIds: [eventId], staleHoldSeconds: 5 });
  expect(Object.entries(report.violations).filter(([, n]) => n > 0)).toEqual([]);
  expect(report.provider).toMatchObject({ charged: 1, refunded: 0 });
});

test('a payment started one second before expiry for seats the database already gave away is never charged', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, { holdSeconds: 30 });
  const buyer = await newBuyer(api.url, 'Late');
  const rival = await newBuyer(api.url, 'Rival');
  const hold = await call(api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { seatIds: ['A-2-1'] } });
  const expiresAt = Date.parse(hold.body.expiresAt);
  // The database's own expiry for this hold ends early (a clock that ran ahead), and a rival takes the seat.
  await api.deps.pool.query(`UPDATE seats SET hold_expires_at = now() - interval '1 second' WHERE hold_id = $1`, [hold.body.holdId]);
  await api.deps.seatClaims.drop(eventId, hold.body.holdId); // the claim gate's end coincides with the database's
  expect((await call(api.url, 'POST', `/v1/events/${eventId}/hold`, { token: rival.token, body: { seatIds: ['A-2-1'] } })).status).toBe(
    201,
  );

  await sleep(expiresAt - 1000 - Date.now());
  const paid = await call(api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect(paid.status).toBe(410);
  expect(paid.body.error.code).toBe('HOLD_EXPIRED');
  const { rows } = await api.deps.pool.query('SELECT count(*)::int AS n FROM payments WHERE hold_id = $1', [hold.body.holdId]);
  expect(rows[0].n).toBe(0);
  const report = await reconcile(api.deps.pool, createPaymentProvider(config, api.deps.pool), { eventIds: [eventId] });
  expect(report.provider.charged).toBe(0);
  expect(report.violations.providerChargeWithoutOrderOrRefund).toBe(0);
});
