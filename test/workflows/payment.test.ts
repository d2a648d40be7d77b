/**
 * The money side of a checkout on Temporal's time-skipping server, with the
 * real activities against real Postgres and stripe-mock (and the development
 * provider's ledger as the provider's books). Each fault from the table
 * ends with the reconciliation clean: no charge without an order or a refund,
 * no double charge.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { reconcile } from '../../db/audit';
import {
  checkoutQuery,
  holdUpdate,
  type HoldView,
  type PaymentActionRequired,
  paymentOutcomeSignal,
  purchaseUpdate,
} from '../../domain/checkout';
import { checkoutWorkflowId } from '../../domain/ids';
import { refundWorkflowId } from '../../domain/refund';
import { PaymentUnavailableError, type PaymentProvider } from '../../payments';
import type { TestCardPaymentProvider } from '../../payments/test-cards';
import type { checkout } from '../../workflows';
import { installQuietRuntime } from '../../harness/runtime';
import { seedBuyer, seedEvent } from '../../harness/seed';
import { testConfig, workflowBundle } from '../../harness/stack';
import { useTimeSkipping } from '../support/timeskipping';

installQuietRuntime();
jest.setTimeout(120_000);

const config = testConfig();
const world = useTimeSkipping(config);

/** The development provider, switchable to "down": every call fails as an outage does. */
class FlakyProvider {
  down = false;
  calls = 0;
  constructor(readonly real: PaymentProvider) {}
  wrap(): PaymentProvider {
    return new Proxy(this.real, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          this.calls++;
          if (this.down && prop !== 'name') throw new PaymentUnavailableError('payment provider unavailable: connection refused');
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
}

type Activities = ReturnType<typeof createActivities>;

async function run<R>(
  fn: (ctx: { handle: WorkflowHandle<typeof checkout>; hold: HoldView; eventId: string; buyerId: string }) => Promise<R>,
  opts: { provider?: PaymentProvider; activities?: (a: Activities) => Partial<Activities>; holdSeconds?: number } = {},
): Promise<R> {
  const taskQueue = `payment-${randomUUID()}`;
  const base = createActivities({ ...world.deps, ...(opts.provider && { payments: opts.provider }) });
  const worker = await Worker.create({
    connection: world.env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { ...base, ...opts.activities?.(base) },
  });
  const eventId = await seedEvent(world.pool, { holdSeconds: opts.holdSeconds ?? 300 });
  const buyerId = await seedBuyer(world.pool);
  return worker.runUntil(async () => {
    const handle = await world.env.client.workflow.start<typeof checkout>('checkout', {
      workflowId: checkoutWorkflowId(eventId, buyerId),
      taskQueue,
      args: [{ eventId, buyerId }],
    });
    try {
      const hold = await handle.executeUpdate(holdUpdate, { args: [{ kind: 'seats', seatIds: ['A-1-1', 'A-1-2'] }] });
      return await fn({ handle, hold, eventId, buyerId });
    } finally {
      await handle.terminate('test finished').catch(() => undefined);
    }
  });
}

/** The database gives the hold's seats away (as if every worker had been down past its expiry) and another buyer takes one. */
async function stealSeat(eventId: string, holdId: string, seatId: string): Promise<void> {
  await world.pool.query(`UPDATE seats SET hold_expires_at = now() - interval '1 second' WHERE hold_id = $1`, [holdId]);
  await createActivities(world.deps).reserveSeats({
    holdId: `hold_${randomUUID().replace(/-/g, '')}`,
    eventId,
    buyerId: await seedBuyer(world.pool, 'Other'),
    checkoutId: 'test',
    request: { kind: 'seats', seatIds: [seatId] },
  });
}

async function payments(holdId: string) {
  const { rows } = await world.pool.query<{ id: string; status: string; provider_ref: string; refund_requested_at: Date | null }>(
    'SELECT id, status, provider_ref, refund_requested_at FROM payments WHERE hold_id = $1 ORDER BY created_at',
    [holdId],
  );
  return rows;
}

async function clean(eventId: string) {
  // Settled: nothing in flight may be excused by the pending bound.
  const report = await reconcile(world.pool, world.deps.payments, { eventIds: [eventId], pendingPaymentSeconds: 0 });
  expect(Object.entries(report.violations).filter(([, n]) => n > 0)).toEqual([]);
  return report;
}

async function notificationKinds(buyerId: string): Promise<string[]> {
  const { rows } = await world.pool.query('SELECT kind FROM notifications WHERE buyer_id = $1 ORDER BY id', [buyerId]);
  return rows.map((r: { kind: string }) => r.kind);
}

const ledger = () => world.deps.payments as TestCardPaymentProvider;

test('provider down longer than every timeout: the refund waits as refund_pending and lands when it is back', async () => {
  const flaky = new FlakyProvider(world.deps.payments);
  await run(
    async ({ handle, hold, eventId, buyerId }) => {
      const action = (await handle.executeUpdate(purchaseUpdate, {
        args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_threeDSecure2Required' }],
      })) as PaymentActionRequired;
      expect(action).toMatchObject({ status: 'requires_action', nextAction: { type: 'redirect_to_url' } });
      expect(action.clientSecret).toMatch(/_secret_/);
      // While the buyer authenticates, the seats are lost; then the provider goes down, and the success arrives.
      await stealSeat(eventId, hold.holdId, 'A-1-2');
      const [payment] = await payments(hold.holdId);
      await ledger().completeAuthentication(payment!.provider_ref, action.clientSecret, true);
      flaky.down = true;
      await handle.signal(paymentOutcomeSignal, { paymentId: action.paymentId, status: 'succeeded' });

      // Six hours: longer than the old 15-minute refund deadline, the confirmation's 2 minutes and the 5-minute authentication.
      await world.env.sleep(6 * 3600_000);
      const view = await handle.query(checkoutQuery);
      expect(view.state).toBe('refund_pending');
      expect(view.payment).toMatchObject({ paymentId: action.paymentId, status: 'refund_pending' });
      const [stuck] = await payments(hold.holdId);
      expect(stuck).toMatchObject({ status: 'succeeded' });
      expect(stuck!.refund_requested_at).not.toBeNull();
      const refundHandle = world.env.client.workflow.getHandle(refundWorkflowId(action.paymentId));
      expect((await refundHandle.describe()).status.name).toBe('RUNNING');
      const attemptsWhileDown = flaky.calls;
      expect(attemptsWhileDown).toBeGreaterThan(10);

      flaky.down = false;
      expect(await refundHandle.result()).toMatchObject({ status: 'refunded', refundRef: expect.stringMatching(/^re_/) });
      const result = await handle.result();
      expect(result.state).toBe('refunded');
      const [refunded] = await payments(hold.holdId);
      expect(refunded!.status).toBe('refunded');
      expect(await ledger().retrieve(refunded!.provider_ref)).toMatchObject({ status: 'refunded' });
      expect(await notificationKinds(buyerId)).toContain('payment_refunded');
      const report = await clean(eventId);
      expect(report.provider).toMatchObject({ charged: 1, refunded: 1 });
    },
    { provider: flaky.wrap() },
  );
});

test('3-D Secure success after the cancel: the cancel finds the charge and the order is confirmed, charged once', async () => {
  await run(async ({ handle, hold, eventId }) => {
    const action = (await handle.executeUpdate(purchaseUpdate, {
      args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_threeDSecure2Required' }],
    })) as PaymentActionRequired;
    const [payment] = await payments(hold.holdId);
    // The buyer authenticates at the bank, but the webhook is lost: the checkout gives up at its deadline and cancels.
    await ledger().completeAuthentication(payment!.provider_ref, action.clientSecret, true);
    const result = await handle.result();
    expect(result.state).toBe('confirmed');
    expect(result.order).toMatchObject({ status: 'confirmed', seatIds: ['A-1-1', 'A-1-2'] });
    expect((await payments(hold.holdId)).map((p) => p.status)).toEqual(['succeeded']);
    await clean(eventId);
  });
});

test('3-D Secure success after the cancel when the seats are gone: refunded automatically and the buyer told', async () => {
  await run(async ({ handle, hold, eventId, buyerId }) => {
    const action = (await handle.executeUpdate(purchaseUpdate, {
      args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_threeDSecure2Required' }],
    })) as PaymentActionRequired;
    const [payment] = await payments(hold.holdId);
    await ledger().completeAuthentication(payment!.provider_ref, action.clientSecret, true);
    await stealSeat(eventId, hold.holdId, 'A-1-1');
    const result = await handle.result();
    expect(result.state).toBe('refunded');
    expect((await payments(hold.holdId)).map((p) => p.status)).toEqual(['refunded']);
    expect(await notificationKinds(buyerId)).toContain('payment_refunded');
    await clean(eventId);
  });
});

test('an authentication that never completes is cancelled: nothing charged, and the buyer may pay again', async () => {
  // A 15-minute window, so the 5-minute authentication deadline passes while the hold is still open.
  await run(
    async ({ handle, hold, eventId }) => {
      await handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_threeDSecure2Required' }] });
      await world.env.sleep(5 * 60_000 + 5000);
      const view = await handle.query(checkoutQuery);
      expect(view).toMatchObject({ state: 'held', lastDecline: 'timed_out', payment: { status: 'declined' } });
      const [payment] = await payments(hold.holdId);
      expect(payment!.status).toBe('declined');
      expect(await ledger().retrieve(payment!.provider_ref)).toMatchObject({ status: 'canceled' });
      const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }] });
      expect(order).toMatchObject({ status: 'confirmed' });
      await clean(eventId);
    },
    { holdSeconds: 900 },
  );
});

test('confirmation answer lost: the order that committed is found, and nothing is refunded', async () => {
  let confirmCalls = 0;
  await run(
    async ({ handle, hold, eventId, buyerId }) => {
      const order = await handle.executeUpdate(purchaseUpdate, { args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }] });
      expect(order).toMatchObject({ status: 'confirmed', seatIds: ['A-1-1', 'A-1-2'] });
      expect(confirmCalls).toBeGreaterThan(1);
      expect((await handle.result()).state).toBe('confirmed');
      expect((await payments(hold.holdId)).map((p) => p.status)).toEqual(['succeeded']);
      expect(await notificationKinds(buyerId)).not.toContain('payment_refunded');
      await clean(eventId);
    },
    {
      // The test server does not skip time while an activity is being retried: this one takes the confirmation's real 2 minutes.
      activities: (real) => ({
        // Every confirmation commits, and every answer is lost on the way back.
        async confirmOrder(input) {
          confirmCalls++;
          await real.confirmOrder(input);
          throw new Error('connection reset before the answer arrived');
        },
      }),
    },
  );
}, 300_000);
