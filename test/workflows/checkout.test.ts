/**
 * The checkout workflow on Temporal's time-skipping test server, with the real
 * activities against real Postgres, Redis and stripe-mock: five-minute hold
 * windows pass in milliseconds of wall time.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { auditDatabase } from '../../db/audit';
import {
  BUYER_ID_KEY,
  checkoutQuery,
  EVENT_ID_KEY,
  holdUpdate,
  LEAN_CHECKOUT_SHAPE,
  orderIdForHold,
  type HoldRequest,
  paymentOutcomeSignal,
  purchaseUpdate,
  releaseUpdate,
  type HoldView,
} from '../../domain/checkout';
import { checkoutWorkflowId } from '../../domain/ids';
import type { checkout } from '../../workflows';
import { installQuietRuntime } from '../../harness/runtime';
import { useTimeSkipping } from '../support/timeskipping';
import { seedBuyer, seedEvent } from '../../harness/seed';
import { testConfig, workflowBundle } from '../../harness/stack';

installQuietRuntime();
jest.setTimeout(60_000);

const config = testConfig();
const world = useTimeSkipping(config);

async function newWorker(taskQueue: string, extra: Partial<Parameters<typeof Worker.create>[0]> = {}) {
  return Worker.create({
    connection: world.env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(world.deps),
    ...extra,
  });
}

/** Runs fn with a worker; the checkout is started and holds its seats first. */
async function withCheckout<R>(
  seats: { seatIds: string[] } | { quantity: number },
  fn: (ctx: { handle: WorkflowHandle<typeof checkout>; hold: HoldView; eventId: string; buyerId: string; taskQueue: string }) => Promise<R>,
  event: Parameters<typeof seedEvent>[1] = {},
): Promise<R> {
  const taskQueue = `checkout-${randomUUID()}`;
  const worker = await newWorker(taskQueue);
  const eventId = await seedEvent(world.pool, event);
  const buyerId = await seedBuyer(world.pool);
  return worker.runUntil(async () => {
    const handle = await world.env.client.workflow.start<typeof checkout>('checkout', {
      workflowId: checkoutWorkflowId(eventId, buyerId),
      taskQueue,
      args: [{ eventId, buyerId }],
    });
    const request =
      'seatIds' in seats ? { kind: 'seats' as const, seatIds: seats.seatIds } : { kind: 'best' as const, quantity: seats.quantity };
    try {
      const hold = await handle.executeUpdate(holdUpdate, { args: [request] });
      return await fn({ handle, hold, eventId, buyerId, taskQueue });
    } finally {
      // A checkout left running with no worker would hold the test server's clock still for the next test.
      await handle.terminate('test finished').catch(() => undefined);
    }
  });
}

async function seatStatus(eventId: string, seatId: string): Promise<string> {
  const { rows } = await world.pool.query('SELECT status FROM seats WHERE event_id = $1 AND seat_id = $2', [eventId, seatId]);
  return rows[0].status;
}

async function notificationKinds(buyerId: string): Promise<string[]> {
  const { rows } = await world.pool.query('SELECT kind FROM notifications WHERE buyer_id = $1 ORDER BY id', [buyerId]);
  return rows.map((r) => r.kind);
}

async function failureType(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause.type ?? undefined;
    throw err;
  }
}

test('the hold expires exactly at the end of its window and the seats return to sale', async () => {
  await withCheckout({ seatIds: ['A-1-1', 'A-1-2'] }, async ({ handle, hold, eventId, buyerId }) => {
    const heldAt = await world.env.currentTimeMs();
    expect(Date.parse(hold.expiresAt) - heldAt).toBeGreaterThan(299_000);

    await world.env.sleep(Date.parse(hold.expiresAt) - (await world.env.currentTimeMs()) - 1000);
    expect((await handle.query(checkoutQuery)).state).toBe('held');
    expect(await seatStatus(eventId, 'A-1-1')).toBe('held');

    const result = await handle.result();
    expect(result.state).toBe('expired');
    // The timer that ended the window fired at the hold's expiry, to the second.
    const { events } = await handle.fetchHistory();
    const fired = events!.filter((e) => e.timerFiredEventAttributes).map((e) => Number(e.eventTime!.seconds) * 1000);
    expect(Math.abs(fired[fired.length - 1]! - Date.parse(hold.expiresAt))).toBeLessThan(1000);
    expect(await seatStatus(eventId, 'A-1-1')).toBe('available');
    expect(await seatStatus(eventId, 'A-1-2')).toBe('available');
    expect(await notificationKinds(buyerId)).toEqual(['hold_reminder', 'hold_expired']);
    const { rows } = await world.pool.query('SELECT status FROM holds WHERE id = $1', [hold.holdId]);
    expect(rows[0].status).toBe('expired');
  });
});

test('the reminder is queued one minute before expiry, not earlier', async () => {
  await withCheckout({ quantity: 1 }, async ({ hold, buyerId }) => {
    const reminderAt = Date.parse(hold.expiresAt) - 60_000;
    await world.env.sleep(reminderAt - (await world.env.currentTimeMs()) - 1000);
    expect(await notificationKinds(buyerId)).toEqual([]);
    await world.env.sleep(2000);
    expect(await notificationKinds(buyerId)).toEqual(['hold_reminder']);
  });
});

test('abandoning releases the seats at once and notifies the buyer', async () => {
  await withCheckout({ seatIds: ['A-2-3'] }, async ({ handle, hold, eventId, buyerId }) => {
    await handle.executeUpdate(releaseUpdate, { args: [{ holdId: hold.holdId }] });
    expect(await seatStatus(eventId, 'A-2-3')).toBe('available');
    const result = await handle.result();
    expect(result.state).toBe('released');
    expect(await notificationKinds(buyerId)).toEqual(['hold_released']);
    // Nothing can be bought on a released hold.
    expect(
      await failureType(handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }] })).catch(
        () => 'closed',
      ),
    ).toBeDefined();
  });
});

test('a declined card keeps the hold; a second card succeeds and the order is confirmed', async () => {
  await withCheckout({ seatIds: ['A-3-1', 'A-3-2'] }, async ({ handle, hold, eventId, buyerId }) => {
    const declined = await failureType(
      handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }] }),
    );
    expect(declined).toBe('PAYMENT_DECLINED');
    const view = await handle.query(checkoutQuery);
    expect(view.state).toBe('held');
    expect(view.lastDecline).toBe('insufficient_funds');
    expect(await seatStatus(eventId, 'A-3-1')).toBe('held');

    const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }] });
    expect(order).toMatchObject({ status: 'confirmed', seatIds: ['A-3-1', 'A-3-2'], amountCents: 10000 });
    expect((await handle.result()).state).toBe('confirmed');
    expect(await seatStatus(eventId, 'A-3-1')).toBe('sold');
    const { rows } = await world.pool.query('SELECT status FROM payments WHERE hold_id = $1 ORDER BY created_at', [hold.holdId]);
    expect(rows.map((r) => r.status)).toEqual(['declined', 'succeeded']);
    expect(await notificationKinds(buyerId)).toEqual(['order_confirmed']);
  });
});

test('a payment started before expiry decides the outcome even when it finishes after', async () => {
  await withCheckout({ seatIds: ['A-4-1'] }, async ({ handle, hold, eventId }) => {
    await world.env.sleep(Date.parse(hold.expiresAt) - (await world.env.currentTimeMs()) - 5000);
    // A 3-D Secure card: the charge waits for Stripe's webhook.
    const purchase = handle.executeUpdate(purchaseUpdate, {
      args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_threeDSecure2Required' }],
    });
    const paymentRow = async () => {
      for (;;) {
        const { rows } = await world.pool.query(
          `SELECT id FROM payments WHERE hold_id = $1 AND status = 'pending' AND provider_ref IS NOT NULL`,
          [hold.holdId],
        );
        if (rows[0]) return rows[0].id as string;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const paymentId = await paymentRow();
    // The purchase answers at once with the action the buyer must take (3-D Secure).
    expect(await purchase).toMatchObject({ status: 'requires_action', paymentId });
    await world.env.sleep(60_000); // the hold window ends while the payment is in flight
    expect((await handle.query(checkoutQuery)).state).toBe('paying');
    await handle.signal(paymentOutcomeSignal, { paymentId, status: 'succeeded' });
    const result = await handle.result();
    expect(result.state).toBe('confirmed');
    expect(result.order).toMatchObject({ status: 'confirmed', seatIds: ['A-4-1'] });
    expect(await seatStatus(eventId, 'A-4-1')).toBe('sold');
  });
});

test('a purchase arriving after expiry is rejected with HOLD_EXPIRED', async () => {
  await withCheckout({ seatIds: ['A-4-2'] }, async ({ handle, hold }) => {
    await world.env.sleep(Date.parse(hold.expiresAt) - (await world.env.currentTimeMs()) + 1000);
    const type = await failureType(
      handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }] }),
    ).catch((err: Error) => err.name);
    // Either the validator rejects it, or the checkout has already closed.
    expect(['HOLD_EXPIRED', 'WorkflowNotFoundError']).toContain(type);
    const { rows } = await world.pool.query('SELECT count(*)::int AS n FROM payments WHERE hold_id = $1', [hold.holdId]);
    expect(rows[0].n).toBe(0);
  });
});

test('a hold whose seats the database gave away is never charged: HOLD_EXPIRED before the provider is called', async () => {
  await withCheckout({ seatIds: ['A-1-5', 'A-1-6'] }, async ({ handle, hold, eventId }) => {
    // The database-side expiry passes (as if every worker had been down) and another buyer takes a seat.
    await world.pool.query(`UPDATE seats SET hold_expires_at = now() - interval '1 second' WHERE hold_id = $1`, [hold.holdId]);
    const thief = await seedBuyer(world.pool, 'Other');
    await createActivities(world.deps).reserveSeats({
      holdId: `hold_${randomUUID().replace(/-/g, '')}`,
      eventId,
      buyerId: thief,
      checkoutId: 'test',
      request: { kind: 'seats', seatIds: ['A-1-6'] },
    });
    const type = await failureType(
      handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }] }),
    );
    expect(type).toBe('HOLD_EXPIRED');
    const { rows } = await world.pool.query('SELECT count(*)::int AS n FROM payments WHERE hold_id = $1', [hold.holdId]);
    expect(rows[0].n).toBe(0);
    // No second try either: the window is closed for this hold.
    expect(
      await failureType(handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }] })),
    ).toBe('HOLD_EXPIRED');
    const audit = await auditDatabase(world.pool, { eventIds: [eventId] });
    expect(audit.violations.chargeWithoutOrder).toBe(0);
  });
});

test('a checkout survives a worker restart and completes on a fresh worker by replay', async () => {
  const taskQueue = `checkout-${randomUUID()}`;
  const eventId = await seedEvent(world.pool);
  const buyerId = await seedBuyer(world.pool);
  // Without a workflow cache the first worker leaves no sticky queue behind for its successor to wait out.
  const first = await newWorker(taskQueue, { maxCachedWorkflows: 0 });
  const { handle, hold } = await first.runUntil(async () => {
    const h = await world.env.client.workflow.start<typeof checkout>('checkout', {
      workflowId: checkoutWorkflowId(eventId, buyerId),
      taskQueue,
      args: [{ eventId, buyerId }],
    });
    return { handle: h, hold: await h.executeUpdate(holdUpdate, { args: [{ kind: 'seats', seatIds: ['A-2-1'] }] }) };
  });
  // The first worker is gone; a new one with no cache must rebuild the checkout from its history.
  const second = await newWorker(taskQueue);
  await second.runUntil(async () => {
    const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }] });
    expect(order.status).toBe('confirmed');
    expect((await handle.result()).state).toBe('confirmed');
  });
  expect(await seatStatus(eventId, 'A-2-1')).toBe('sold');
  const history = await handle.fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
});

describe('the lean checkout (the contention path)', () => {
  const newHoldId = () => `hold_${randomUUID().replace(/-/g, '')}`;

  /** As the API does it: Update-with-Start, the hold arriving with the start. */
  async function startWithHold(taskQueue: string, eventId: string, buyerId: string, request: HoldRequest) {
    const workflowId = checkoutWorkflowId(eventId, buyerId);
    const hold = world.env.client.workflow.executeUpdateWithStart(holdUpdate, {
      args: [request],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof checkout>('checkout', {
        workflowId,
        taskQueue,
        args: [{ eventId, buyerId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: EVENT_ID_KEY, value: eventId },
          { key: BUYER_ID_KEY, value: buyerId },
        ],
      }),
    });
    return { handle: world.env.client.workflow.getHandle<typeof checkout>(workflowId), hold };
  }

  type Ev = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
  const scheduled = (events: Ev[]) =>
    events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);

  // Runs before the Update-with-Start tests below: after one, the time-skipping server no longer skips time.
  test("the window's timer ends at the expiry Postgres recorded, not at now + window on the workflow's clock", async () => {
    const taskQueue = `checkout-${randomUUID()}`;
    const worker = await newWorker(taskQueue);
    const eventId = await seedEvent(world.pool, { holdSeconds: 60 });
    const buyerId = await seedBuyer(world.pool);
    const holdId = newHoldId();
    // The database recorded the hold 3 s before the checkout asked for it (the reserve is idempotent by hold id).
    const early = await createActivities(world.deps).reserveSeats({
      holdId,
      eventId,
      buyerId,
      checkoutId: checkoutWorkflowId(eventId, buyerId),
      request: { kind: 'seats', seatIds: ['A-2-7'] },
    });
    expect(early.windowLeftMs).toBeGreaterThan(59_000);
    await new Promise((r) => setTimeout(r, 3000));
    await worker.runUntil(async () => {
      // Started, then asked (the time-skipping server does not let time pass after an Update-with-Start).
      const handle = await world.env.client.workflow.start<typeof checkout>('checkout', {
        workflowId: checkoutWorkflowId(eventId, buyerId),
        taskQueue,
        args: [{ eventId, buyerId }],
      });
      const view = await handle.executeUpdate(holdUpdate, { args: [{ kind: 'seats', seatIds: ['A-2-7'], holdId }] });
      const result = await handle.result();
      expect(result.state).toBe('expired');
      const { events } = await handle.fetchHistory();
      // The window's timers (reminder halfway, then expiry) add up to what the database had left: about 57 s, not 60.
      const timers = events!
        .filter((e) => e.timerStartedEventAttributes)
        .map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds ?? 0))
        .slice(1); // the first is the wait for a hold
      const total = timers.reduce((a, b) => a + b, 0);
      // At most 57 s and change (the 3 s the database was ahead); a loaded machine may take a few seconds more in between.
      expect(total).toBeLessThanOrEqual(58);
      expect(total).toBeGreaterThanOrEqual(45);
      // And the buyer is shown the database's end of the window, whatever the (skipped) workflow clock says.
      expect(view.seatIds).toEqual(['A-2-7']);
      expect(await seatStatus(eventId, 'A-2-7')).toBe('available');
    });
  });
  test('the hold takes the claim id, reserves and confirms in local activities, and indexes no state on the happy path', async () => {
    const taskQueue = `checkout-${randomUUID()}`;
    const worker = await newWorker(taskQueue);
    const eventId = await seedEvent(world.pool);
    const buyerId = await seedBuyer(world.pool);
    const holdId = newHoldId();
    await worker.runUntil(async () => {
      const { handle, hold } = await startWithHold(taskQueue, eventId, buyerId, { kind: 'seats', seatIds: ['A-4-7', 'A-4-8'], holdId });
      expect((await hold).holdId).toBe(holdId);
      const { rows } = await world.pool.query('SELECT id FROM holds WHERE id = $1', [holdId]);
      expect(rows).toHaveLength(1);
      const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_visa' }] });
      expect(order.status).toBe('confirmed');
      expect((await handle.result()).state).toBe('confirmed');
      const { events } = await handle.fetchHistory();
      // Normal activities: keeping the hold in Postgres before charging, and the charge itself. Reserve and
      // confirm ran as local activities, recorded as markers.
      expect(scheduled(events!)).toEqual(['extendHoldForPayment', 'chargePayment']);
      const markers = events!.filter((e) => e.markerRecordedEventAttributes).map((e) => e.markerRecordedEventAttributes!.markerName);
      expect(markers.filter((m) => m === 'core_local_activity')).toHaveLength(2);
      // CheckoutState is not written on the happy path; EventId and BuyerId were set at the start.
      expect(events!.some((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toBe(false);
      const started = events![0]!.workflowExecutionStartedEventAttributes!;
      expect(Object.keys(started.searchAttributes?.indexedFields ?? {}).sort()).toEqual(['BuyerId', 'EventId']);
      expect(await seatStatus(eventId, 'A-4-7')).toBe('sold');
    });
  });

  test('shape 3: the charge is a local activity too, so a sold ticket is two workflow tasks and no activity', async () => {
    const taskQueue = `checkout-${randomUUID()}`;
    const worker = await newWorker(taskQueue);
    const eventId = await seedEvent(world.pool);
    const buyerId = await seedBuyer(world.pool);
    const holdId = newHoldId();
    await worker.runUntil(async () => {
      const { handle, hold } = await startWithHold(taskQueue, eventId, buyerId, {
        kind: 'seats',
        seatIds: ['A-4-5', 'A-4-6'],
        holdId,
        shape: LEAN_CHECKOUT_SHAPE,
      });
      expect((await hold).seatIds).toEqual(['A-4-5', 'A-4-6']);
      const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_visa' }] });
      expect(order.status).toBe('confirmed');
      expect((await handle.result()).state).toBe('confirmed');
      const { events } = await handle.fetchHistory();
      expect(scheduled(events!)).toEqual([]);
      // Reserve, the hold kept for the charge, the charge and confirm: four local activities.
      const markers = events!.filter((e) => e.markerRecordedEventAttributes).map((e) => e.markerRecordedEventAttributes!.markerName);
      expect(markers.filter((m) => m === 'core_local_activity')).toHaveLength(4);
      // Two workflow tasks: the hold, and the purchase with its charge and confirmation.
      expect(events!.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(2);
      const { rows } = await world.pool.query('SELECT status FROM payments WHERE hold_id = $1', [holdId]);
      expect(rows.map((r) => r.status)).toEqual(['succeeded']);
      expect(await seatStatus(eventId, 'A-4-5')).toBe('sold');
    });
  });

  test('shape 3: a purchase delivered again after its task was lost answers the order it made, charged once', async () => {
    const taskQueue = `checkout-${randomUUID()}`;
    const worker = await newWorker(taskQueue);
    const eventId = await seedEvent(world.pool);
    const buyerId = await seedBuyer(world.pool);
    const holdId = newHoldId();
    await worker.runUntil(async () => {
      const { handle, hold } = await startWithHold(taskQueue, eventId, buyerId, { kind: 'seats', seatIds: ['A-4-1'], holdId, shape: 3 });
      await hold;
      // What the lost task's local activities committed: the charge (under the key the workflow uses for its
      // first attempt) and the order. Nothing of it is in the history.
      const acts = createActivities(world.deps);
      const workflowId = checkoutWorkflowId(eventId, buyerId);
      const charge = await acts.chargePayment({
        idempotencyKey: `${workflowId}:${holdId}:1`,
        checkoutId: workflowId,
        holdId,
        eventId,
        buyerId,
        amountCents: (await hold).amountCents,
        paymentMethod: 'pm_card_visa',
      });
      expect(charge.status).toBe('succeeded');
      await acts.confirmOrder({ holdId, paymentId: charge.paymentId, orderId: orderIdForHold(holdId) });
      // The update arrives again: the hold no longer owns its seats (they are sold), and the order is the answer.
      const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_visa' }] });
      expect(order).toMatchObject({ status: 'confirmed', seatIds: ['A-4-1'] });
      expect((await handle.result()).state).toBe('confirmed');
      const { rows } = await world.pool.query('SELECT status FROM payments WHERE hold_id = $1', [holdId]);
      expect(rows.map((r) => r.status)).toEqual(['succeeded']);
      expect(await seatStatus(eventId, 'A-4-1')).toBe('sold');
    });
  });

  test('shape 3: a declined card leaves the hold, and the next card pays once', async () => {
    const taskQueue = `checkout-${randomUUID()}`;
    const worker = await newWorker(taskQueue);
    const eventId = await seedEvent(world.pool);
    const buyerId = await seedBuyer(world.pool);
    const holdId = newHoldId();
    await worker.runUntil(async () => {
      const { handle, hold } = await startWithHold(taskQueue, eventId, buyerId, { kind: 'seats', seatIds: ['A-4-8'], holdId, shape: 3 });
      await hold;
      expect(
        await failureType(
          handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }] }),
        ),
      ).toBe('PAYMENT_DECLINED');
      expect(await seatStatus(eventId, 'A-4-8')).toBe('held');
      const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_visa' }] });
      expect(order.status).toBe('confirmed');
      const { rows } = await world.pool.query('SELECT status FROM payments WHERE hold_id = $1 ORDER BY created_at', [holdId]);
      expect(rows.map((r) => r.status)).toEqual(['declined', 'succeeded']);
    });
  });

  test('shape 2: the hold is kept for the charge by a local activity too, so the charge is the only activity', async () => {
    const taskQueue = `checkout-${randomUUID()}`;
    const worker = await newWorker(taskQueue);
    const eventId = await seedEvent(world.pool);
    const buyerId = await seedBuyer(world.pool);
    const holdId = newHoldId();
    await worker.runUntil(async () => {
      const { handle, hold } = await startWithHold(taskQueue, eventId, buyerId, {
        kind: 'seats',
        seatIds: ['A-4-3', 'A-4-4'],
        holdId,
        shape: 2,
      });
      expect((await hold).seatIds).toEqual(['A-4-3', 'A-4-4']);
      const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId, paymentMethod: 'pm_card_visa' }] });
      expect(order.status).toBe('confirmed');
      expect((await handle.result()).state).toBe('confirmed');
      const { events } = await handle.fetchHistory();
      expect(scheduled(events!)).toEqual(['chargePayment']);
      // Reserve, the hold kept for the charge, and confirm: three local activities.
      const markers = events!.filter((e) => e.markerRecordedEventAttributes).map((e) => e.markerRecordedEventAttributes!.markerName);
      expect(markers.filter((m) => m === 'core_local_activity')).toHaveLength(3);
      // Three workflow tasks: the hold, the purchase up to the charge, the confirmation.
      expect(events!.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(3);
      const { rows } = await world.pool.query("SELECT expires_at > now() + interval '60 seconds' AS kept FROM holds WHERE id = $1", [
        holdId,
      ]);
      expect(rows[0].kept).toBe(true);
      expect(await seatStatus(eventId, 'A-4-3')).toBe('sold');
    });
  });

  test('a hold that Postgres refuses closes the checkout at once, with no idle timer', async () => {
    const taskQueue = `checkout-${randomUUID()}`;
    const worker = await newWorker(taskQueue);
    const eventId = await seedEvent(world.pool);
    const [first, second] = [await seedBuyer(world.pool), await seedBuyer(world.pool)];
    await worker.runUntil(async () => {
      const a = await startWithHold(taskQueue, eventId, first, { kind: 'seats', seatIds: ['A-3-7'], holdId: newHoldId() });
      await a.hold;
      const b = await startWithHold(taskQueue, eventId, second, { kind: 'seats', seatIds: ['A-3-7', 'A-3-8'], holdId: newHoldId() });
      expect(await failureType(b.hold)).toBe('SEATS_UNAVAILABLE');
      const result = await b.handle.result();
      expect(result.state).toBe('closed');
      const { events } = await b.handle.fetchHistory();
      expect(events!.some((e) => e.timerStartedEventAttributes)).toBe(false);
      expect(await seatStatus(eventId, 'A-3-8')).toBe('available');
      await a.handle.terminate('test finished');
    });
  });
});
