/**
 * One buyer's checkout for one event: hold → pay → confirm, with the hold
 * window as a durable timer raced against purchase and release.
 */
import {
  allHandlersFinished,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  CHECKOUT_STATE_KEY,
  type CheckoutInput,
  type CheckoutState,
  type CheckoutView,
  checkoutQuery,
  holdUpdate,
  type HoldRequest,
  type HoldView,
  INDEXED_CHECKOUT_STATES,
  orderIdForHold,
  type OrderView,
  type PaymentOutcome,
  paymentOutcomeSignal,
  type PaymentView,
  purchaseUpdate,
  releaseUpdate,
} from '../domain/checkout';
import type { NotificationKind } from '../domain/notifications';
import { fail, updateFailureFrom } from './failures';
import {
  CHARGE_HOLD_SECONDS,
  COMPENSATE_WITHOUT_ORDER_PATCH,
  EXTEND_BEFORE_CHARGE_PATCH,
  purchaseSteps,
  REQUIRES_ACTION_PATCH,
} from './payment';

/** Reserving answers a waiting buyer: retry briefly, then report the outage. */
const RESERVE_DEADLINE_MS = 20_000;
const reserve = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: RESERVE_DEADLINE_MS,
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s' },
});

/** Releasing and confirming must eventually happen: retry for as long as it takes. */
const seats = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Confirmation gives up after a while so that a charge never waits forever for its seats. */
const confirm = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
});

/** Payments retry with the same idempotency key, so a retry never charges twice. */
const PAYMENT_OPTIONS = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;
const payments = proxyActivities<Activities>(PAYMENT_OPTIONS);

/**
 * The lean checkout (see isLeanRequest): the seat activities run as local
 * activities in the workflow task that asked for them, so a hold is one task.
 * Each is idempotent by hold id, so a retried or replayed attempt is harmless.
 */
const localReserve = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: RESERVE_DEADLINE_MS,
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s' },
});
const localSeats = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});
const localConfirm = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
});
/** The charge is dispatched eagerly to this worker where the server allows it (system.enableActivityEagerExecution). */
const eagerPayments = proxyActivities<Activities>({ ...PAYMENT_OPTIONS, allowEagerDispatch: true });

/**
 * Shape 3: the charge runs as a local activity in the purchase's own workflow
 * task, so a purchase is one task whatever the card does: no activity task to
 * schedule, dispatch and report, and no second task to read its result. The
 * same idempotency key as the activity's makes a retry (or a worker that died
 * mid-call and the task run again elsewhere) charge once; the task is kept
 * alive while the call lasts, and a retry backing off longer than a minute
 * waits on a timer.
 */
const localPayments = proxyLocalActivities<Activities>(PAYMENT_OPTIONS);

/** Shape 3: the order a purchase committed in a workflow task that was then lost (see the purchase handler). */
const localOrders = proxyLocalActivities<Pick<Activities, 'orderForHold'>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

const REMINDER_BEFORE_EXPIRY_MS = 60_000;
/**
 * Since this patch the reminder's lead time is set per checkout and never
 * more than half the hold window, so a short window (the API allows 30 s)
 * still gets a reminder, halfway, instead of none. Checkouts that started
 * before it keep the fixed one-minute lead when they replay.
 */
export const REMINDER_LEAD_PATCH = 'checkout-reminder-lead-time';
/**
 * The lean checkout is versioned by its first hold request: a request that
 * carries the hold id of the API's claim gate (HoldRequest.holdId, which no
 * request recorded before carries) makes the checkout lean: reserve, confirm
 * and release are local activities; the window's timer runs the time the
 * database says is left; CheckoutState is written only where support staff
 * look (INDEXED_CHECKOUT_STATES); a checkout whose hold failed closes at once;
 * the charge may be dispatched eagerly. The version is in the history (the
 * update's input), so replay takes the same path; and unlike patched(), it
 * costs no marker and no TemporalChangeVersion upsert, two billable actions
 * per checkout. Checkouts that started before it replay the way they ran.
 */
const isLeanRequest = (request: HoldRequest) => typeof request.holdId === 'string';
const MAX_FAILED_HOLD_ATTEMPTS = 25;
/**
 * Shape 4: a start recorded this much later than the database's window would
 * imply is taken for a clock that is off, not for a slow start.
 */
const CLOCKS_IN_STEP_MS = 15_000;
/** States a lean checkout can rest in: kept current in the index once it has written one. */
const RESTING = new Set<CheckoutState>(['held', 'confirmed', 'refunded', 'released', 'expired']);
const DEFAULT_IDLE_SECONDS = 600;
const PAYMENT_OUTCOME_TIMEOUT = '10 minutes';

export interface CheckoutOptions {
  /** How long before the hold ends the buyer is reminded; default one minute, at most half the window. */
  reminderLeadSeconds?: number;
}

export async function checkout(input: CheckoutInput & CheckoutOptions): Promise<CheckoutView> {
  const { workflowId } = workflowInfo();
  const { eventId, buyerId } = input;
  /** Decided by the first hold request (see isLeanRequest); set before the main body's first wait when it came with the start. */
  let lean = false;
  /** Shape 2 and later (LEAN_CHECKOUT_SHAPE): the hold is kept for the charge by a local activity; 3: the charge is one too. */
  let shape = 0;
  let versionDecided = false;
  const seatActs = () => (lean ? localSeats : seats);
  /** Set once a lean checkout has written CheckoutState: from then on its resting states are kept current. */
  let indexed = false;

  // Widened on purpose: handlers change it, so the compiler must not narrow it.
  let state = 'awaiting_hold' as CheckoutState;
  let hold: HoldView | undefined;
  let order: OrderView | undefined;
  let expiresAtMs = 0;
  let windowMs = 0;
  /** Set when the timer fires or the buyer lets go: no purchase may start after it. */
  let windowClosed = false;
  let failedHoldAttempts = 0;
  let paymentAttempts = 0;
  let lastDecline: string | undefined;
  const outcomes = new Map<string, PaymentOutcome>();
  /** The latest payment, for a page that reloads (money: issue 12). */
  let payment: PaymentView | undefined;
  /** Settles when a refund started by the compensation has landed (money: issue 12). */
  let refundSettled: Promise<void> | undefined;

  const view = (): CheckoutView => ({ state, eventId, buyerId, hold, order, paymentAttempts, lastDecline, payment });

  function index(value: CheckoutState): void {
    indexed = true;
    upsertSearchAttributes([{ key: CHECKOUT_STATE_KEY, value }]);
  }

  function enter(next: CheckoutState): void {
    state = next;
    if (lean) {
      // Each write is a billable action: only where support staff look, and once written, kept true.
      if ((next !== 'paying' && INDEXED_CHECKOUT_STATES.includes(next)) || (indexed && RESTING.has(next))) index(next);
      return;
    }
    // Transient states are not indexed: support staff search for where a checkout rests.
    if (next !== 'holding' && next !== 'releasing') {
      upsertSearchAttributes([{ key: CHECKOUT_STATE_KEY, value: next }]);
    }
  }

  async function notify(kind: NotificationKind, payload: Record<string, unknown> = {}): Promise<void> {
    try {
      await notifications.notifyBuyer({
        dedupeKey: `${kind}:${hold?.holdId ?? workflowId}`,
        buyerId,
        kind,
        payload: { eventId, ...hold, ...payload },
      });
    } catch (err) {
      // A notification never decides the fate of a checkout.
      log.warn('notification not queued', { kind, error: String(err) });
    }
  }

  async function releaseSeats(outcome: 'released' | 'expired'): Promise<void> {
    await seatActs().releaseHold({ eventId, holdId: hold!.holdId, outcome });
  }

  if (input.hold) {
    // Shape 4: the API took the hold in Postgres before it started this checkout, which begins held. The
    // window is the database's: what it had left, counted from the start on the server's clock.
    versionDecided = true;
    lean = true;
    shape = input.hold.shape;
    const { holdId, seatIds, amountCents, holdSeconds, windowLeftMs, windowEndsAtMs } = input.hold;
    windowMs = holdSeconds * 1000;
    // Counted from the start on the server's clock, the window ends late by however long the start took to be
    // recorded. With the clocks in step, the database's own end is the earlier and the true one; a clock far
    // off (a time-skipping test server) leaves the count from the start, on one clock.
    const byStart = workflowInfo().runStartTime.getTime() + windowLeftMs;
    expiresAtMs = Math.abs(byStart - windowEndsAtMs) < CLOCKS_IN_STEP_MS ? Math.min(byStart, windowEndsAtMs) : byStart;
    hold = { holdId, seatIds, amountCents, expiresAt: new Date(expiresAtMs).toISOString() };
    state = 'held';
  }

  setHandler(checkoutQuery, view);
  setHandler(paymentOutcomeSignal, (outcome) => void outcomes.set(outcome.paymentId, outcome));

  setHandler(
    holdUpdate,
    async (request) => {
      if (!versionDecided) {
        versionDecided = true;
        lean = isLeanRequest(request);
        shape = lean ? (request.shape ?? 1) : 0;
      }
      enter('holding');
      const { holdId: claimId, shape: _shape, ...wanted } = request;
      const holdId = lean && claimId ? claimId : `hold_${uuid4().replace(/-/g, '')}`;
      try {
        const reserved = await (lean ? localReserve : reserve).reserveSeats({
          holdId,
          eventId,
          buyerId,
          checkoutId: workflowId,
          request: lean ? wanted : request,
          deadlineMs: Date.now() + RESERVE_DEADLINE_MS,
        });
        windowMs = reserved.holdSeconds * 1000;
        // The window is the database's: the timer runs what its clock said was left when it recorded the hold.
        expiresAtMs = Date.now() + (lean && reserved.windowLeftMs !== undefined ? reserved.windowLeftMs : windowMs);
        hold = {
          holdId,
          seatIds: reserved.seatIds,
          amountCents: reserved.amountCents,
          expiresAt: new Date(expiresAtMs).toISOString(),
        };
        enter('held');
        return hold;
      } catch (err) {
        const failure = updateFailureFrom(err);
        // Patched: checkouts recorded before this change did not release after a failed reserve.
        if (failure.type === 'UNAVAILABLE' && (lean || patched('release-after-failed-reserve'))) {
          // The outcome is unknown (e.g. a timeout): undo whatever may have been reserved.
          await seatActs().releaseHold({ eventId, holdId, outcome: 'released' });
        }
        failedHoldAttempts++;
        // A lean checkout closes after a failed hold; the buyer's next attempt starts a fresh one.
        if (lean) state = 'closed';
        else enter('awaiting_hold');
        throw failure;
      }
    },
    {
      validator: (_request) => {
        if (state === 'closed') throw fail('UNAVAILABLE', 'this checkout is closing; try again');
        if (state !== 'awaiting_hold') {
          throw fail('CHECKOUT_IN_PROGRESS', 'this buyer already has a checkout in progress for this event', {
            state,
            holdId: hold?.holdId,
          });
        }
      },
    },
  );

  // ---- money (issue 12): the purchase's payment steps, in workflows/payment.ts ----
  /**
   * The payment safeguards are patched in for checkouts that began on the older
   * path; a lean checkout began with them, so it takes them without the patch
   * markers (each one a billable action).
   */
  const moneyPatched = (id: string) => lean || patched(id);
  const steps = purchaseSteps({
    workflowId,
    eventId,
    buyerId,
    hold: () => hold!,
    outcomes,
    enter,
    setOrder: (o) => void (order = o),
    setPayment: (p) => void (payment = p),
    setLastDecline: (code) => void (lastDecline = code),
    closeWindow: () => void (windowClosed = true),
    releaseSeats: () => releaseSeats('released'),
    trackRefund: (settled) => void (refundSettled = settled),
    keepHoldLocally: () => shape >= 2,
  });
  // ---- end money ----

  setHandler(
    purchaseUpdate,
    async ({ holdId, paymentMethod }) => {
      // Shape 3 confirms within the purchase's own task, so a duplicate sent alongside it can arrive after the
      // order is made rather than while it is being paid: it answers that order and charges nothing.
      if (shape >= 3 && state === 'confirmed' && order) return order;
      enter('paying');
      paymentAttempts++;
      const h = hold!;
      // ---- money (issue 12): charge nothing for a hold that no longer owns its seats ----
      if (moneyPatched(EXTEND_BEFORE_CHARGE_PATCH) && !(await steps.keepHold(holdId, CHARGE_HOLD_SECONDS))) {
        // Shape 3 charges and confirms in local activities, in this task. A task can be lost after they
        // committed (the server aborts an update whose task it could not record, and the update is
        // delivered again): the hold is sold by then, and the purchase answers the order it made.
        const done = shape >= 3 ? await localOrders.orderForHold({ holdId }) : null;
        if (done) {
          order = done;
          windowClosed = true;
          enter('confirmed');
          return done;
        }
        windowClosed = true;
        enter('held');
        throw fail('HOLD_EXPIRED', 'this hold no longer owns its seats; nothing was charged', { holdId });
      }
      // ---- end money ----
      let charge = await (shape >= 3 ? localPayments : lean ? eagerPayments : payments)
        .chargePayment({
          idempotencyKey: `${workflowId}:${holdId}:${paymentAttempts}`,
          checkoutId: workflowId,
          holdId,
          eventId,
          buyerId,
          amountCents: h.amountCents,
          paymentMethod,
        })
        .catch((err: unknown) => {
          enter('held');
          throw updateFailureFrom(err);
        });
      if (charge.status === 'pending') {
        // ---- money (issue 12): answer requires_action now; the outcome arrives by webhook ----
        if (moneyPatched(REQUIRES_ACTION_PATCH)) {
          // Waiting on the bank (3-D Secure): where support staff look for a stuck payment.
          if (lean) index('paying');
          return await steps.requireAction(holdId, charge);
        }
        // ---- end money ----
        const paymentId = charge.paymentId;
        // Waiting on the bank (3-D Secure): where support staff look for a stuck payment.
        if (lean) index('paying');
        const arrived = await condition(() => outcomes.has(paymentId), PAYMENT_OUTCOME_TIMEOUT);
        const outcome = outcomes.get(paymentId);
        if (!arrived || !outcome) {
          await payments.cancelPayment({ paymentId });
          charge = { status: 'declined', paymentId, declineCode: 'timed_out', message: 'The payment timed out.' };
        } else if (outcome.status === 'succeeded') {
          await payments.recordPaymentOutcome({ paymentId, status: 'succeeded' });
          charge = { status: 'succeeded', paymentId };
        } else {
          await payments.recordPaymentOutcome({ paymentId, status: 'declined', declineCode: outcome.declineCode });
          const declineCode = outcome.declineCode ?? 'card_declined';
          charge = { status: 'declined', paymentId, declineCode, message: 'The card was declined.' };
        }
      }
      if (charge.status === 'declined') {
        lastDecline = charge.declineCode;
        enter('held');
        throw fail('PAYMENT_DECLINED', charge.message, { declineCode: charge.declineCode, holdId, expiresAt: h.expiresAt });
      }
      try {
        order = await (lean ? localConfirm : confirm).confirmOrder({
          holdId,
          paymentId: charge.paymentId,
          orderId: orderIdForHold(holdId),
        });
        enter('confirmed');
        return order;
      } catch (err) {
        // ---- money (issue 12): refund only what has no order, through the refund workflow ----
        if (moneyPatched(COMPENSATE_WITHOUT_ORDER_PATCH)) return await steps.compensate(holdId, charge.paymentId, err);
        // ---- end money ----
        // Saga compensation: the buyer must never keep a charge without seats.
        log.error('confirmation failed after charge; refunding', { holdId, error: String(err) });
        await payments.refundPayment({ paymentId: charge.paymentId });
        windowClosed = true;
        await releaseSeats('released');
        await notify('payment_refunded', { paymentId: charge.paymentId });
        enter('refunded');
        throw fail('ORDER_NOT_CONFIRMED', 'the seats could not be confirmed; the charge was refunded', { holdId });
      }
    },
    {
      validator: ({ holdId }) => {
        if (!hold || hold.holdId !== holdId) throw fail('HOLD_NOT_FOUND', 'no such hold in this checkout', { holdId });
        if (state === 'paying') throw fail('CHECKOUT_IN_PROGRESS', 'a payment for this hold is already in progress');
        if (shape >= 3 && state === 'confirmed') return;
        if (state !== 'held' || windowClosed || Date.now() >= expiresAtMs) {
          throw fail('HOLD_EXPIRED', 'this hold has ended', { holdId, state });
        }
      },
    },
  );

  setHandler(
    releaseUpdate,
    async () => {
      windowClosed = true;
      enter('releasing');
      await releaseSeats('released');
      await notify('hold_released');
      enter('released');
    },
    {
      validator: ({ holdId }) => {
        if (!hold || hold.holdId !== holdId) throw fail('HOLD_NOT_FOUND', 'no such hold in this checkout', { holdId });
        if (state === 'paying') throw fail('CHECKOUT_IN_PROGRESS', 'a payment for this hold is in progress');
        if (state !== 'held' || windowClosed) throw fail('HOLD_EXPIRED', 'this hold has ended', { holdId, state });
      },
    },
  );

  // Phase 1, until the hold. Shape 4 began held and goes straight to the window: updates delivered with the start
  // run in its first task, so a purchase may already be under way (or a declined one over) by now, and the window
  // decides, not this moment's state.
  if (!input.hold) {
    if (lean) {
      // Lean, the hold came with the start (Update-with-Start): no idle timer at all.
      await condition(() => state !== 'holding');
    } else {
      // Wait for a successful hold (a lean one that fails closes at once).
      await condition(
        () => state === 'held' || failedHoldAttempts >= MAX_FAILED_HOLD_ATTEMPTS || (lean && state === 'closed'),
        (input.idleSeconds ?? DEFAULT_IDLE_SECONDS) * 1000,
      );
      await condition(() => state !== 'holding');
    }
    if (state !== 'held') {
      if (lean) state = 'closed';
      else enter('closed');
      await condition(allHandlersFinished);
      return view();
    }
  }

  // Phase 2: the hold window, raced against purchase and release.
  const settled = () => state === 'confirmed' || state === 'refunded' || state === 'released';
  const reminderLeadMs =
    lean || patched(REMINDER_LEAD_PATCH)
      ? Math.min((input.reminderLeadSeconds ?? REMINDER_BEFORE_EXPIRY_MS / 1000) * 1000, Math.floor(windowMs / 2))
      : REMINDER_BEFORE_EXPIRY_MS;
  const untilReminder = expiresAtMs - reminderLeadMs - Date.now();
  if (untilReminder > 0 && !(await condition(settled, untilReminder)) && state === 'held') {
    await notify('hold_reminder');
  }
  const untilExpiry = expiresAtMs - Date.now();
  const endedEarly = untilExpiry > 0 ? await condition(settled, untilExpiry) : settled();
  if (!endedEarly) {
    windowClosed = true;
    // A payment that started before expiry decides the outcome.
    await condition(() => state !== 'paying' && state !== 'releasing');
    if (state === 'held') {
      await releaseSeats('expired');
      await notify('hold_expired');
      enter('expired');
    }
  }
  await condition(allHandlersFinished);
  // money (issue 12): a refund under way keeps the checkout open (refund_pending) until it lands.
  if (refundSettled) await refundSettled;
  return view();
}
