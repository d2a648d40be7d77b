/**
 * The admission workflow on the time-skipping server with the real queue
 * activities against Redis and Postgres: minutes of admission pass in
 * seconds.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { temporal } from '@temporalio/proto';
import { AdmissionControl } from '../../api/admission-control';
import { type AdmissionInput, admissionQuery, closeUpdate, pauseUpdate, resumeUpdate, setLimitsUpdate } from '../../domain/admission';
import { createLogger } from '../../platform/logger';
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

type Ctx = { handle: WorkflowHandle<typeof admission>; eventId: string; buyers: string[]; taskQueue: string };

/** Seeds an event, queues `queued` buyers after the on-sale time, runs the admission workflow with a worker. */
async function withAdmission<R>(
  opts: { queued: number; limits: AdmissionInput['limits']; seats?: number; maxHistoryEvents?: number; idleSleepSeconds?: number },
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
        {
          eventId,
          onSaleAtMs: (await world.env.currentTimeMs()) - 1000,
          limits: opts.limits,
          maxHistoryEvents: opts.maxHistoryEvents,
          idleSleepSeconds: opts.idleSleepSeconds,
        },
      ],
    });
    try {
      return await fn({ handle, eventId, buyers, taskQueue });
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
    // The clock runs on while the statuses are read, so a buyer may be admitted between the two
    // reads of the serving position: everyone up to the first read is admitted, nobody past the
    // second, and in position order, the admitted buyers a prefix of the line and the rest waiting.
    const statuses: string[] = [];
    for (let p = 1; p <= 40; p++) statuses.push((await statusOf(eventId, buyers[p - 1]!)).status);
    const after = await serving(eventId);
    const admitted = statuses.filter((st) => st === 'admitted').length;
    expect(admitted).toBeGreaterThanOrEqual(s);
    expect(admitted).toBeLessThanOrEqual(after);
    expect(statuses).toEqual([...Array<string>(admitted).fill('admitted'), ...Array<string>(40 - admitted).fill('waiting')]);
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

const E = temporal.api.enums.v1.EventType;
/** How many events of each type the workflow's current run has recorded. */
async function historyCounts(handle: WorkflowHandle) {
  const events = (await handle.fetchHistory()).events ?? [];
  const count = (t: temporal.api.enums.v1.EventType) => events.filter((e) => e.eventType === t).length;
  return {
    timers: count(E.EVENT_TYPE_TIMER_STARTED),
    timersFired: count(E.EVENT_TYPE_TIMER_FIRED),
    activities: count(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    signals: count(E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
  };
}
const quietLogger = createLogger('admission-test', 'silent');

test('an idle open event sleeps: a quiet hour costs a handful of timers and activities, not thousands', async () => {
  const limits = { maxActiveCheckouts: 100, admitPerMinute: 600, admissionWindowSeconds: 60 };
  await withAdmission({ queued: 0, limits, idleSleepSeconds: 600 }, async ({ handle, eventId }) => {
    await world.env.sleep(3_600_000);
    const counts = await historyCounts(handle);
    // Six ten-minute sleeps in the hour (ticking every two seconds would be 1,800 timers).
    expect(counts.timers).toBeGreaterThanOrEqual(5);
    expect(counts.timers).toBeLessThanOrEqual(8);
    // Per sleep: read the load, record the sleep; plus opening the queue and publishing its status.
    expect(counts.activities).toBeLessThanOrEqual(2 * 8 + 2);
    expect(counts.signals).toBe(0);
    expect((await world.deps.waitingRoom.progress(eventId)).status).toBe('open');
  });
});

test('a join wakes the sleeping controller with one signal and the buyer is admitted long before the timer', async () => {
  const limits = { maxActiveCheckouts: 100, admitPerMinute: 600, admissionWindowSeconds: 60 };
  await withAdmission({ queued: 0, limits, idleSleepSeconds: 600 }, async ({ handle, eventId, taskQueue }) => {
    await world.env.sleep(60_000);
    const control = new AdmissionControl(world.env.client, world.pool, taskQueue, world.deps.waitingRoom, quietLogger);
    const before = await historyCounts(handle);
    const first = `buyer-late-${randomUUID().slice(0, 8)}`;
    const second = `buyer-later-${randomUUID().slice(0, 8)}`;
    await world.deps.waitingRoom.join(eventId, first, { beforeSale: false, ip: first, maxPlacesPerIp: 5 });
    await control.wake(eventId);
    // A second joiner right behind: the controller is already being woken, so no second signal.
    await world.deps.waitingRoom.join(eventId, second, { beforeSale: false, ip: second, maxPlacesPerIp: 5 });
    await control.wake(eventId);
    await world.env.sleep(3_000);
    expect((await statusOf(eventId, first)).status).toBe('admitted');
    expect((await statusOf(eventId, second)).status).toBe('admitted');
    const after = await historyCounts(handle);
    expect(after.signals).toBe(1);
    // Woken well before its ten-minute timer: only the busy ticks since.
    expect(after.timers - before.timers).toBeLessThanOrEqual(5);
  });
});

test('sleep is refused while someone is in line, and a sleeping room yields one wake-up per gate', async () => {
  const limits = { maxActiveCheckouts: 100, admitPerMinute: 600, admissionWindowSeconds: 60 };
  await withAdmission({ queued: 0, limits, idleSleepSeconds: 600 }, async ({ eventId }) => {
    await world.env.sleep(30_000);
    // The room says nobody waits and the controller is asleep; a join lands and nobody sends a wake-up.
    const b = `buyer-${randomUUID().slice(0, 8)}`;
    await world.deps.waitingRoom.join(eventId, b, { beforeSale: false, ip: b, maxPlacesPerIp: 5 });
    // Recording sleep now is refused: someone is waiting beyond the serving position.
    expect(await world.deps.waitingRoom.markAsleep(eventId, 600_000)).toBe(false);
    // And with nobody waiting it is accepted, and one wake-up can be claimed, once.
    const quiet = await seedEvent(world.pool, { waitingRoom: { enabled: true, ...limits } });
    await world.deps.waitingRoom.seal(quiet);
    expect(await world.deps.waitingRoom.markAsleep(quiet, 600_000)).toBe(true);
    expect(await world.deps.waitingRoom.claimWake(quiet, 1000)).toBe(true);
    expect(await world.deps.waitingRoom.claimWake(quiet, 1000)).toBe(false);
  });
});

test('close completes the workflow, admits nobody else and marks the room closed', async () => {
  const limits = { maxActiveCheckouts: 2, admitPerMinute: 6000, admissionWindowSeconds: 600 };
  await withAdmission({ queued: 5, limits, idleSleepSeconds: 600 }, async ({ handle, eventId, buyers }) => {
    await world.env.sleep(5_000);
    expect(await serving(eventId)).toBe(2);
    const state = await handle.executeUpdate(closeUpdate);
    // Once nothing is left to run, the time-skipping server jumps its clock far ahead: judge statuses at close time.
    const closedAt = await world.env.currentTimeMs();
    expect(state.closed).toBe(true);
    const result = await handle.result();
    expect(result.closed).toBe(true);
    expect(result.serving).toBe(2);
    expect((await world.deps.waitingRoom.progress(eventId)).status).toBe('closed');
    // Admitted buyers keep their turn; those still in line are told the sale is over.
    const at = (b: string) => world.deps.waitingRoom.status(eventId, b, closedAt);
    expect((await at(buyers[0]!))!.status).toBe('admitted');
    expect((await at(buyers[4]!))!.status).toBe('sold_out');
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });
});

test('close of a sleeping controller completes it at once', async () => {
  const limits = { maxActiveCheckouts: 100, admitPerMinute: 600, admissionWindowSeconds: 60 };
  await withAdmission({ queued: 0, limits, idleSleepSeconds: 600 }, async ({ handle, eventId }) => {
    await world.env.sleep(60_000);
    const before = await historyCounts(handle);
    await handle.executeUpdate(closeUpdate);
    await handle.result();
    // Completed without waiting out the ten-minute sleep: its timer never fired.
    expect((await historyCounts(handle)).timersFired).toBe(before.timersFired);
    expect((await world.deps.waitingRoom.progress(eventId)).status).toBe('closed');
  });
});
