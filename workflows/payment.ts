/**
 * The money side of a checkout's purchase: keeping the hold while a payment is
 * in flight, 3-D Secure as Stripe intends (the purchase answers at once with
 * the action the buyer must take; the outcome arrives by webhook), and the
 * compensation that refunds only a charge without an order, through the
 * refund workflow that never gives up. The checkout workflow calls these from
 * its purchase handler, each behind its own patch.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { condition, log, ParentClosePolicy, proxyActivities, proxyLocalActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  BUYER_ID_KEY,
  type CheckoutState,
  EVENT_ID_KEY,
  type HoldView,
  type NextAction,
  orderIdForHold,
  type OrderView,
  type PaymentActionRequired,
  type PaymentOutcome,
  type PaymentView,
} from '../domain/checkout';
import { refundWorkflowId, type RefundResult } from '../domain/refund';
import { fail } from './failures';
import type { refund } from './refund';

/** Before charging, the hold is kept in Postgres long enough for the charge itself (the provider's timeout, retried). */
export const EXTEND_BEFORE_CHARGE_PATCH = 'extend-hold-before-charge';
/** The purchase answers 202 requires_action instead of waiting inside the update for the 3-D Secure outcome. */
export const REQUIRES_ACTION_PATCH = 'purchase-requires-action';
/** Compensation checks for an order first and refunds through the refund workflow, which never gives up. */
export const COMPENSATE_WITHOUT_ORDER_PATCH = 'compensate-refund-workflow';

/** How long the seats are kept for a charge in flight: the provider's 20 s timeout, retried, with margin. */
export const CHARGE_HOLD_SECONDS = 120;
/** How long a buyer has to authenticate (3-D Secure); the seats are kept that long, plus a margin for the webhook. */
export const AUTHENTICATION_TIMEOUT_MS = 5 * 60_000;
export const AUTHENTICATION_HOLD_SECONDS = AUTHENTICATION_TIMEOUT_MS / 1000 + 60;

/** Deciding a payment's fate cannot be skipped: retried until the database and the provider answer. */
const settling = proxyActivities<
  Pick<Activities, 'cancelPayment' | 'recordPaymentOutcome' | 'orderForHold' | 'claimRefund' | 'extendHoldForPayment'>
>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** The same, run as a local activity inside the purchase's workflow task (checkout shape 2). */
const localSettling = proxyLocalActivities<Pick<Activities, 'extendHoldForPayment'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Confirmation gives up after a while so that a charge never waits forever for its seats (then it is refunded). */
const confirming = proxyActivities<Pick<Activities, 'confirmOrder'>>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
});

/** What the purchase steps read and change of their checkout. */
export interface PurchaseContext {
  workflowId: string;
  eventId: string;
  buyerId: string;
  hold(): HoldView;
  outcomes: ReadonlyMap<string, PaymentOutcome>;
  enter(state: CheckoutState): void;
  setOrder(order: OrderView): void;
  setPayment(payment: PaymentView): void;
  setLastDecline(code: string): void;
  /** No purchase may start after this. */
  closeWindow(): void;
  releaseSeats(): Promise<void>;
  /** The checkout keeps running until this settles (the refund landed or the order was found). */
  trackRefund(settled: Promise<void>): void;
  /** Whether the hold is kept by a local activity (decided by the checkout's first hold request). */
  keepHoldLocally(): boolean;
}

export function purchaseSteps(ctx: PurchaseContext) {
  /** True when the hold still owns its seats, which are now kept for `seconds` more; false means charge nothing. */
  async function keepHold(holdId: string, seconds: number): Promise<boolean> {
    return (await (ctx.keepHoldLocally() ? localSettling : settling).extendHoldForPayment({ holdId, seconds })).owned;
  }

  /** A refund workflow for this payment; a second start (the webhook's, or a replayed one) finds the first. */
  async function startRefund(paymentId: string): Promise<{ result: Promise<RefundResult> } | null> {
    const h = ctx.hold();
    try {
      const child = await startChild<typeof refund>('refund', {
        workflowId: refundWorkflowId(paymentId),
        args: [
          {
            paymentId,
            eventId: ctx.eventId,
            buyerId: ctx.buyerId,
            reason: 'order_not_confirmed',
            seatIds: h.seatIds,
            amountCents: h.amountCents,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: EVENT_ID_KEY, value: ctx.eventId },
          { key: BUYER_ID_KEY, value: ctx.buyerId },
        ],
      });
      return { result: child.result() };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return null;
      throw err;
    }
  }

  /**
   * Saga compensation: the buyer must never keep a charge without seats. An
   * order that committed although its answer was lost is the buyer's order:
   * nothing is refunded. Otherwise the seats go back and the refund workflow
   * retries until the provider has returned the money.
   */
  async function compensate(holdId: string, paymentId: string, err: unknown): Promise<OrderView> {
    // Claimed in the database first: a late confirmation either committed before (its order is the buyer's) or never will.
    const { order: existing } = await settling.claimRefund({ holdId, paymentId });
    if (existing) {
      ctx.setOrder(existing);
      ctx.setPayment({ paymentId, status: 'succeeded' });
      ctx.enter('confirmed');
      return existing;
    }
    log.error('confirmation failed after charge; refunding', { holdId, paymentId, error: String(err) });
    ctx.closeWindow();
    await ctx.releaseSeats();
    const started = await startRefund(paymentId);
    if (started) {
      ctx.trackRefund(
        started.result.then(async (r) => {
          if (r.status === 'kept') {
            const order = await settling.orderForHold({ holdId, paymentId });
            if (order) ctx.setOrder(order);
            ctx.setPayment({ paymentId, status: 'succeeded' });
            ctx.enter('confirmed');
          } else {
            ctx.setPayment({ paymentId, status: 'refunded' });
            ctx.enter('refunded');
          }
        }),
      );
    }
    // Only now: a checkout that leaves `paying` must already know what it waits for.
    ctx.setPayment({ paymentId, status: 'refund_pending' });
    ctx.enter('refund_pending');
    throw fail('ORDER_NOT_CONFIRMED', 'the seats could not be confirmed; the charge is being refunded', {
      holdId,
      paymentId,
      refund: 'pending',
    });
  }

  /** Confirms the order for a payment that succeeded, or compensates. */
  async function confirmPaid(holdId: string, paymentId: string): Promise<OrderView> {
    let order: OrderView;
    try {
      order = await confirming.confirmOrder({ holdId, paymentId, orderId: orderIdForHold(holdId) });
    } catch (err) {
      return compensate(holdId, paymentId, err);
    }
    ctx.setOrder(order);
    ctx.setPayment({ paymentId, status: 'succeeded' });
    ctx.enter('confirmed');
    return order;
  }

  /**
   * After the purchase answered requires_action: waits (bounded) for the
   * webhook's outcome, and when none arrives cancels the payment, which may
   * reveal that it succeeded after all. A success is confirmed (or refunded when
   * the seats are gone); anything else returns the checkout to `held`.
   */
  async function completeAuthentication(holdId: string, paymentId: string): Promise<void> {
    const arrived = await condition(() => ctx.outcomes.has(paymentId), AUTHENTICATION_TIMEOUT_MS);
    const outcome = ctx.outcomes.get(paymentId);
    let status: 'succeeded' | 'declined' | 'refunded';
    let declineCode = 'timed_out';
    if (!arrived || !outcome) {
      status = (await settling.cancelPayment({ paymentId })).status;
    } else {
      declineCode = outcome.declineCode ?? 'card_declined';
      await settling.recordPaymentOutcome({
        paymentId,
        status: outcome.status,
        ...(outcome.declineCode && { declineCode: outcome.declineCode }),
      });
      status = outcome.status;
    }
    if (status === 'succeeded') {
      await confirmPaid(holdId, paymentId).catch((err: unknown) => {
        // Nobody waits for this answer: the page reads the outcome from the checkout.
        log.warn('authenticated payment not confirmed', { holdId, paymentId, error: String(err) });
      });
      return;
    }
    ctx.setLastDecline(declineCode);
    ctx.setPayment({ paymentId, status: 'declined' });
    ctx.enter('held');
  }

  /** The purchase's answer for a payment that needs authentication; the hold is kept (bounded) while it runs. */
  async function requireAction(
    holdId: string,
    charge: { paymentId: string; clientSecret?: string; nextAction?: NextAction },
  ): Promise<PaymentActionRequired> {
    const { paymentId } = charge;
    await keepHold(holdId, AUTHENTICATION_HOLD_SECONDS);
    const nextAction = charge.nextAction ?? { type: 'use_stripe_sdk' };
    const clientSecret = charge.clientSecret ?? '';
    ctx.setPayment({ paymentId, status: 'requires_action', clientSecret, nextAction });
    // Runs on after the handler answers; the checkout stays `paying` until it settles.
    void completeAuthentication(holdId, paymentId).catch((err: unknown) => {
      log.error('authentication outcome not settled', { holdId, paymentId, error: String(err) });
    });
    return { status: 'requires_action', paymentId, clientSecret, nextAction };
  }

  return { keepHold, confirmPaid, compensate, requireAction };
}
