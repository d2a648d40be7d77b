/**
 * The admission workflow on the time-skipping server with the real queue
 * activities against Redis and Postgres: minutes of admission pass in
 * seconds.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { type AdmissionInput, admissionQuery, pauseUpdate, resumeUpdate, setLimitsUpdate } from '../../domain/admission';
import { admissionWorkflowId } from '../../domain/ids';
import type { admission } from '../../workflows';
import { installQuietRuntime } from '../../harness/runtime';
import { seedBuyer, seedEvent } from '../../harness/seed';
import { testConfig, workflowBundle } from '../../harness/stack';
import { useTimeSkipping } from '../support/timeskipping';

installQuietRuntime();
jest.setTimeout(90_000);

const config = testConfig();
const world = useTimeSkipping(config);

type Ctx = { handle: WorkflowHandle<typeof admission>; eventId: string; buyers: string[] };

/** Seeds an event, queues `queued` buyers after the on-sale time, runs the admission workflow with a worker. */
async function withAdmission<R>(
  opts: { queued: number; limits: AdmissionInput['limits']; seats?: number; maxHistoryEvents?: number },
  fn: (ctx: Ctx) => Promise<R>,
): Promise<R> {
  const eventId = await seedEvent(world.pool, {
    waitingRoom: { enabled: true, ...opts.limits },
    sections: [{ id: 'A', name: 'A', rows: 1, seatsPerRow: opts.seats ?? 500, priceCents: 1000 }],
  });
  const buyers = Array.from({ length: opts.queued }, (_, i) => `buyer-${i}-${randomUUID().slice(0, 8)}`);
  for (const b of buyers) await world.deps.waitingRoom.join(eventId, b, { beforeSale: false, ip: b, maxPlacesPerIp: 5 });
  const taskQueue = `admission-${randomUUID()}`;
  const worker = await Worker.create({
    connection: world.env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(world.deps),
  });
  return worker.runUntil(async () => {
    const handle = await world.env.client.workflow.start<typeof admission>('admission', {
      workflowId: admissionWorkflowId(eventId),
      taskQueue,
      args: [
        { eventId, onSaleAtMs: (await world.env.currentTimeMs()) - 1000, limits: opts.limits, maxHistoryEvents: opts.maxHistoryEvents },
      ],
    });
    try {
      return await fn({ handle, eventId, buyers });
    } finally {
      await handle.terminate('test finished').catch(() => undefined);
    }
  });
}

const serving = async (eventId: string) => (await world.deps.waitingRoom.progress(eventId)).servingPosition;
const statusOf = async (eventId: string, buyer: string) =>
  (await world.deps.waitingRoom.status(eventId, buyer, await world.env.currentTimeMs()))!;

test('admission follows the configured rate, in position order', async () => {
  const limits = { maxActiveCheckouts: 10_000, admitPerMinute: 60, admissionWindowSeconds: 600 };
  await withAdmission({ queued: 200, limits }, async ({ eventId, buyers }) => {
    await world.env.sleep(30_000);
    const s = await serving(eventId);
    // One per second for thirty seconds, plus at most the two seconds of credit that may pile up.
    expect(s).toBeGreaterThanOrEqual(25);
    expect(s).toBeLessThanOrEqual(33);
    for (let p = 1; p <= 40; p++) {
      expect((await statusOf(eventId, buyers[p - 1]!)).status).toBe(p <= s ? 'admitted' : 'waiting');
    }
    await world.env.sleep(60_000);
    expect(await serving(eventId)).toBeGreaterThanOrEqual(s + 55);
  });
});

test('maxActiveCheckouts caps admissions; an unused admission is reclaimed after its window', async () => {
  const limits = { maxActiveCheckouts: 5, admitPerMinute: 6000, admissionWindowSeconds: 30 };
  await withAdmission({ queued: 50, limits }, async ({ eventId, buyers }) => {
    await world.env.sleep(10_000);
    expect(await serving(eventId)).toBe(5);
    // Buyer 1 starts a checkout: its hold keeps the slot; the other four let their turn lapse.
    const holder = buyers[0]!;
    await world.deps.waitingRoom.markUsed(eventId, holder);
    await createActivities(world.deps).reserveSeats({
      holdId: `hold_${randomUUID().replace(/-/g, '')}`,
      eventId,
      buyerId: holder,
      checkoutId: 'test',
      request: { kind: 'best', quantity: 1 },
    });
    await world.env.sleep(10_000);
    // One hold and four open admissions fill the five slots.
    expect(await serving(eventId)).toBe(5);
    expect((await statusOf(eventId, buyers[1]!)).status).toBe('admitted');
    await world.env.sleep(35_000);
    expect((await statusOf(eventId, buyers[1]!)).status).toBe('expired');
    expect((await statusOf(eventId, holder)).status).toBe('admitted');
    // The four lapsed turns went to the next four in line; the hold still counts.
    expect(await serving(eventId)).toBe(9);
  });
});

test('pause stops admission, resume continues it, and limit changes apply', async () => {
  const limits = { maxActiveCheckouts: 10_000, admitPerMinute: 120, admissionWindowSeconds: 600 };
  await withAdmission({ queued: 300, limits }, async ({ handle, eventId }) => {
    await world.env.sleep(5_000);
    await handle.executeUpdate(pauseUpdate);
    const paused = await serving(eventId);
    await world.env.sleep(60_000);
    expect(await serving(eventId)).toBe(paused);
    expect((await world.deps.waitingRoom.progress(eventId)).status).toBe('paused');
    await handle.executeUpdate(resumeUpdate);
    await world.env.sleep(10_000);
    const resumed = await serving(eventId);
    expect(resumed - paused).toBeGreaterThanOrEqual(15);
    expect(resumed - paused).toBeLessThanOrEqual(25);
    await handle.executeUpdate(setLimitsUpdate, { args: [{ admitPerMinute: 1200 }] });
    await world.env.sleep(10_000);
    expect((await serving(eventId)) - resumed).toBeGreaterThanOrEqual(150);
  });
});

test('continue-as-new keeps the serving position, counters and limits', async () => {
  const limits = { maxActiveCheckouts: 10_000, admitPerMinute: 60, admissionWindowSeconds: 600 };
  await withAdmission({ queued: 400, limits, maxHistoryEvents: 120 }, async ({ handle, eventId }) => {
    await handle.executeUpdate(setLimitsUpdate, { args: [{ maxActiveCheckouts: 9_999 }] });
    await world.env.sleep(120_000);
    const state = await handle.query(admissionQuery);
    expect(state.runs).toBeGreaterThanOrEqual(2);
    expect(state.limits.maxActiveCheckouts).toBe(9_999);
    expect(state.serving).toBe(await serving(eventId));
    expect(state.admittedTotal).toBe(state.serving);
    expect(state.serving).toBeGreaterThanOrEqual(110);
    expect(state.serving).toBeLessThanOrEqual(125);
  });
});

test('sold out once no holds remain; returned seats go to the waitlist in order', async () => {
  const limits = { maxActiveCheckouts: 100, admitPerMinute: 6000, admissionWindowSeconds: 20 };
  await withAdmission({ queued: 3, limits, seats: 2 }, async ({ eventId, buyers }) => {
    const acts = createActivities(world.deps);
    const holder = await seedBuyer(world.pool, 'Holder');
    const holdId = `hold_${randomUUID().replace(/-/g, '')}`;
    await acts.reserveSeats({ holdId, eventId, buyerId: holder, checkoutId: 'test', request: { kind: 'best', quantity: 2 } });
    await world.env.sleep(5_000);
    // Seats are all held, not sold: waiting buyers stay in line.
    expect((await world.deps.waitingRoom.progress(eventId)).status).toBe('open');
    expect((await statusOf(eventId, buyers[2]!)).status).not.toBe('sold_out');
    const waitlisted = [await seedBuyer(world.pool, 'W1'), await seedBuyer(world.pool, 'W2'), await seedBuyer(world.pool, 'W3')];
    for (const w of waitlisted) await world.deps.waitingRoom.joinWaitlist(eventId, w, 1);

    const offered = async () =>
      (
        await world.pool.query(
          `SELECT buyer_id FROM notifications WHERE kind = 'waitlist_offer' AND payload->>'eventId' = $1 ORDER BY id`,
          [eventId],
        )
      ).rows.map((r) => r.buyer_id);
    await acts.releaseHold({ eventId, holdId, outcome: 'released' });
    await world.env.sleep(5_000);
    // The queue comes first: two seats, so two of the three queued buyers are admitted.
    expect(await serving(eventId)).toBe(2);
    expect(await offered()).toEqual([]);
    await world.env.sleep(20_000);
    // Their turns lapsed: the third is admitted and the first on the waitlist gets the other seat.
    expect(await serving(eventId)).toBe(3);
    expect(await offered()).toEqual([waitlisted[0]]);
    expect((await statusOf(eventId, waitlisted[0]!)).status).toBe('admitted');
    await world.env.sleep(20_000);
    // Unclaimed offers pass to the next, in waitlist order.
    expect(await offered()).toEqual(waitlisted);
    expect((await statusOf(eventId, waitlisted[0]!)).status).toBe('expired');
    expect((await statusOf(eventId, waitlisted[2]!)).status).toBe('admitted');

    // Sell both seats: with nothing held, the queue is declared sold out.
    for (const w of waitlisted.slice(0, 1)) {
      const h = `hold_${randomUUID().replace(/-/g, '')}`;
      await acts.reserveSeats({ holdId: h, eventId, buyerId: w, checkoutId: `c-${h}`, request: { kind: 'best', quantity: 2 } });
      const charge = await acts.chargePayment({
        idempotencyKey: `k-${h}`,
        checkoutId: `c-${h}`,
        holdId: h,
        eventId,
        buyerId: w,
        amountCents: 2000,
        paymentMethod: 'pm_card_visa',
      });
      await acts.confirmOrder({ holdId: h, paymentId: charge.paymentId, orderId: `ord_${h.slice(5)}` });
    }
    await world.env.sleep(5_000);
    expect((await world.deps.waitingRoom.progress(eventId)).status).toBe('sold_out');
  });
});
