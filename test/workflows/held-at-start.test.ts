/**
 * Shape 4: the API reserves a winning claim's seats in Postgres and starts the
 * checkout already held. On Temporal's time-skipping test server, with the
 * real activities against real Postgres, Redis and stripe-mock. Its own file,
 * so the test server's clock starts in step with the database's: the first
 * test needs that, the second needs it skipped ahead.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { BUYER_ID_KEY, checkoutQuery, EVENT_ID_KEY, HELD_AT_START_SHAPE, purchaseUpdate } from '../../domain/checkout';
import { checkoutWorkflowId } from '../../domain/ids';
import { startHeldCheckout } from '../../services/held-checkout';
import { SeatHolds } from '../../services/seat-holds';
import type { checkout } from '../../workflows';
import { installQuietRuntime } from '../../harness/runtime';
import { useTimeSkipping } from '../support/timeskipping';
import { seedBuyer, seedEvent } from '../../harness/seed';
import { testConfig, workflowBundle } from '../../harness/stack';

installQuietRuntime();
jest.setTimeout(60_000);

const config = testConfig();
const world = useTimeSkipping(config);

type Ev = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

async function newWorker(taskQueue: string) {
  return Worker.create({
    connection: world.env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(world.deps),
  });
}

async function seatStatus(eventId: string, seatId: string): Promise<string> {
  const { rows } = await world.pool.query('SELECT status FROM seats WHERE event_id = $1 AND seat_id = $2', [eventId, seatId]);
  return rows[0].status;
}

/** As the API does it: the seats reserved in Postgres, then the checkout started with the hold. */
async function reserveAndStart(
  taskQueue: string,
  seatIds: string[],
  opts: { holdSeconds?: number; skewWindowLeftMs?: number } = {},
): Promise<{ handle: WorkflowHandle<typeof checkout>; eventId: string; holdId: string; windowEndsAtMs: number }> {
  const eventId = await seedEvent(world.pool, { holdSeconds: opts.holdSeconds ?? 300 });
  const buyerId = await seedBuyer(world.pool);
  const holdId = `hold_${randomUUID().replaceAll('-', '')}`;
  const workflowId = checkoutWorkflowId(eventId, buyerId);
  const holds = new SeatHolds({ ...world.deps, graceSeconds: config.HOLD_PAYMENT_GRACE_SECONDS });
  const reserved = await holds.reserve({ holdId, eventId, buyerId, checkoutId: workflowId, request: { kind: 'seats', seatIds } });
  const windowEndsAtMs = Date.parse(reserved.dbExpiresAt) - config.HOLD_PAYMENT_GRACE_SECONDS * 1000;
  const handle = await world.env.client.workflow.start<typeof checkout>('checkout', {
    workflowId,
    taskQueue,
    args: [
      {
        eventId,
        buyerId,
        hold: {
          holdId,
          seatIds: reserved.seatIds,
          amountCents: reserved.amountCents,
          holdSeconds: reserved.holdSeconds,
          windowLeftMs: reserved.windowLeftMs + (opts.skewWindowLeftMs ?? 0),
          windowEndsAtMs,
          shape: HELD_AT_START_SHAPE,
        },
      },
    ],
    typedSearchAttributes: [
      { key: EVENT_ID_KEY, value: eventId },
      { key: BUYER_ID_KEY, value: buyerId },
    ],
  });
  return { handle, eventId, holdId, windowEndsAtMs };
}

/** The window's timers after the start (reminder, then expiry), in seconds. */
function windowTimers(events: Ev[]): number[] {
  return events
    .filter((e) => e.timerStartedEventAttributes)
    .map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds ?? 0));
}

test("a start recorded late does not stretch the window: it ends at the database's end", async () => {
  const taskQueue = `held-${randomUUID()}`;
  const worker = await newWorker(taskQueue);
  await worker.runUntil(async () => {
    // As if the server had taken 5 s to record the start: counted from the start, the window would end 5 s late.
    const { handle, eventId, windowEndsAtMs } = await reserveAndStart(taskQueue, ['A-1-1'], { holdSeconds: 60, skewWindowLeftMs: 5000 });
    const view = await handle.query(checkoutQuery);
    expect(view.state).toBe('held');
    expect(Date.parse(view.hold!.expiresAt)).toBe(windowEndsAtMs);
    expect((await handle.result()).state).toBe('expired');
    const { events } = await handle.fetchHistory();
    const total = windowTimers(events!).reduce((a, b) => a + b, 0);
    // About the 60 s the database gave, not 65 (a loaded machine may take a second or two before the first task).
    expect(total).toBeLessThanOrEqual(60);
    expect(total).toBeGreaterThanOrEqual(55);
    expect(await seatStatus(eventId, 'A-1-1')).toBe('available');
    const { rows } = await world.pool.query(`SELECT status FROM holds WHERE event_id = $1`, [eventId]);
    expect(rows.map((r) => r.status)).toEqual(['expired']);
  });
});

test("with the server's clock far from the database's, the window is counted from the start, on one clock", async () => {
  const taskQueue = `held-${randomUUID()}`;
  const worker = await newWorker(taskQueue);
  await worker.runUntil(async () => {
    // Skip the test server's clock a minute ahead of the database's (real) one.
    await world.env.sleep(60_000);
    expect((await world.env.currentTimeMs()) - Date.now()).toBeGreaterThan(30_000);
    const { handle, eventId } = await reserveAndStart(taskQueue, ['A-1-2'], { holdSeconds: 40 });
    const startedAt = Date.parse((await handle.query(checkoutQuery)).hold!.expiresAt) - (await world.env.currentTimeMs());
    // Counted from the start: about 40 s from now on the server's clock, not already past by the database's.
    expect(startedAt).toBeGreaterThan(35_000);
    expect((await handle.result()).state).toBe('expired');
    const total = windowTimers((await handle.fetchHistory()).events!).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(35);
    expect(total).toBeLessThanOrEqual(40);
    expect(await seatStatus(eventId, 'A-1-2')).toBe('available');
  });
});

test('a checkout started held sells in two workflow tasks, with no activity and no reserve of its own', async () => {
  const taskQueue = `held-${randomUUID()}`;
  const worker = await newWorker(taskQueue);
  await worker.runUntil(async () => {
    const { handle, eventId, holdId } = await reserveAndStart(taskQueue, ['A-2-1', 'A-2-2']);
    const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_visa' }] });
    expect(order).toMatchObject({ status: 'confirmed', seatIds: ['A-2-1', 'A-2-2'] });
    expect((await handle.result()).state).toBe('confirmed');
    const { events } = await handle.fetchHistory();
    expect(events!.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
    // The hold kept for the charge, the charge and the confirmation: three local activities; no reserve.
    const markers = events!.filter((e) => e.markerRecordedEventAttributes).map((e) => e.markerRecordedEventAttributes!.markerName);
    expect(markers).toEqual(['core_local_activity', 'core_local_activity', 'core_local_activity']);
    // The start's task, and the purchase's.
    expect(events!.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(2);
    expect(events!.some((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toBe(false);
    const { rows } = await world.pool.query('SELECT status FROM payments WHERE hold_id = $1', [holdId]);
    expect(rows.map((r) => r.status)).toEqual(['succeeded']);
    expect(await seatStatus(eventId, 'A-2-1')).toBe('sold');
  });
});

test("a start that finds the buyer's checkout running gives the seats back and answers CHECKOUT_IN_PROGRESS", async () => {
  const taskQueue = `held-${randomUUID()}`;
  const worker = await newWorker(taskQueue);
  await worker.runUntil(async () => {
    const eventId = await seedEvent(world.pool);
    const buyerId = await seedBuyer(world.pool);
    const workflowId = checkoutWorkflowId(eventId, buyerId);
    // The buyer's checkout is running without a hold in Postgres (as one started by an older API waits for its
    // hold request), so the reserve succeeds and only the start can see the conflict.
    const running = await world.env.client.workflow.start<typeof checkout>('checkout', {
      workflowId,
      taskQueue,
      args: [{ eventId, buyerId }],
    });
    const holds = new SeatHolds({ ...world.deps, graceSeconds: config.HOLD_PAYMENT_GRACE_SECONDS });
    const holdId = `hold_${randomUUID().replaceAll('-', '')}`;
    const attempt = startHeldCheckout(
      { temporal: world.env.client, taskQueue, holds, logger: world.deps.logger },
      { eventId, buyerId, holdId, request: { kind: 'seats', seatIds: ['A-3-1', 'A-3-2'] } },
    );
    await expect(attempt).rejects.toMatchObject({ code: 'CHECKOUT_IN_PROGRESS' });
    expect(await seatStatus(eventId, 'A-3-1')).toBe('available');
    expect(await seatStatus(eventId, 'A-3-2')).toBe('available');
    const { rows } = await world.pool.query('SELECT status FROM holds WHERE id = $1', [holdId]);
    expect(rows.map((r) => r.status)).toEqual(['released']);
    // The running checkout was left as it was.
    expect((await running.query(checkoutQuery)).state).toBe('awaiting_hold');
    await running.terminate('test finished');
  });
});

test('a declined purchase delivered with the start leaves the checkout holding its seats, and the next card pays', async () => {
  const taskQueue = `held-${randomUUID()}`;
  // Started before any worker polls: the purchase arrives with the start and runs in the checkout's first task.
  const { handle, eventId, holdId } = await reserveAndStart(taskQueue, ['A-4-1', 'A-4-2', 'A-4-3']);
  const declined = handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_chargeDeclined' }] });
  declined.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 500));
  const worker = await newWorker(taskQueue);
  await worker.runUntil(async () => {
    await expect(declined).rejects.toThrow();
    expect((await handle.query(checkoutQuery)).state).toBe('held');
    expect(await seatStatus(eventId, 'A-4-1')).toBe('held');
    const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_visa' }] });
    expect(order).toMatchObject({ status: 'confirmed', seatIds: ['A-4-1', 'A-4-2', 'A-4-3'] });
    expect((await handle.result()).state).toBe('confirmed');
    expect(await seatStatus(eventId, 'A-4-3')).toBe('sold');
  });
});
