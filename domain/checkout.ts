/**
 * Messages of the checkout workflow, shared by the workflow and its callers.
 * No Node imports: this module is bundled into the workflow sandbox.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export interface CheckoutInput {
  eventId: string;
  buyerId: string;
  /** How long a checkout without a successful hold lingers for another attempt. */
  idleSeconds?: number;
  /**
   * Shape 4 (HELD_AT_START_SHAPE): the hold the API has already taken in
   * Postgres. The checkout starts held, with no hold request and no reserve of
   * its own. Absent for checkouts that start by a hold request.
   */
  hold?: HeldAtStart;
}

/** The hold a shape 4 checkout starts with, as the database recorded it. */
export interface HeldAtStart {
  holdId: string;
  seatIds: string[];
  amountCents: number;
  holdSeconds: number;
  /**
   * The window left when the API sent the start: what the database's clock had
   * left at the reserve, less the time the API took since. The workflow counts
   * it from the start's own time on the server's clock, so the timer ends with
   * the database's window without comparing the two clocks.
   */
  windowLeftMs: number;
  /**
   * The window's end as the database recorded it (its expiry less the grace),
   * in ms since the epoch on the database's clock. A start the server took long
   * to record would push a timer counted from the start past this, so the
   * workflow ends the window here when the clocks are in step (see
   * CLOCKS_IN_STEP_MS in the workflow).
   */
  windowEndsAtMs: number;
  /** HELD_AT_START_SHAPE, recorded with the start so a replay takes the path the checkout ran. */
  shape: number;
}

/**
 * A hold attempt. `holdId` is chosen by the API when its Redis claim gate took
 * the seats (the claim's owner), so Redis, the workflow and Postgres name the
 * hold alike; requests recorded before it existed carry none.
 */
export type HoldRequest = ({ kind: 'seats'; seatIds: string[] } | { kind: 'best'; quantity: number; section?: string }) & {
  holdId?: string;
  /**
   * The shape of checkout the first hold request asks for (see
   * LEAN_CHECKOUT_SHAPE); recorded in the history with the request, so a
   * replay takes the path the checkout ran. Absent before shapes existed.
   */
  shape?: number;
  /**
   * The person the identity provider verified behind the buyer (the token's
   * `verified_id` claim): the seats every account of that person holds or
   * bought for the event count against maxSeatsPerBuyer. Absent for a buyer
   * with no verified identity, and in requests recorded before it existed.
   */
  verifiedIdentity?: string;
  /**
   * The seats this buyer may hold and buy for the event when that is fewer
   * than maxSeatsPerBuyer (an unverified or risky account: the event's
   * unverifiedSeatLimit). Absent for every other buyer, and in requests
   * recorded before it existed.
   */
  maxSeats?: number;
};

/**
 * 4 (HELD_AT_START_SHAPE): the API reserves the winning claim's seats itself,
 * in one round trip to Postgres, and starts the checkout already held: the
 * buyer's answer waits for one workflow start, not for a workflow task. The
 * checkout then runs as shape 3.
 * 3: the charge is a local activity too, so a purchase is one workflow task
 * and a sold ticket's checkout two tasks and no activity at all.
 * 2: the hold is kept for the charge by a local activity, like reserve,
 * confirm and release, so a purchase is two workflow tasks and one activity.
 * 1 (or absent) with a hold id: the lean checkout as first built.
 */
export const LEAN_CHECKOUT_SHAPE = 3;
export const HELD_AT_START_SHAPE = 4;

/** What the database reserved for a hold: the seats, their price, and the hold's end as the database recorded it. */
export interface Reservation {
  holdId: string;
  seatIds: string[];
  amountCents: number;
  holdSeconds: number;
  /** The moment the database gives the seats back (the window plus the payment grace). */
  dbExpiresAt: string;
  /**
   * The hold window left by the database's own clock when it recorded the hold
   * (dbExpiresAt − grace − the database's now): the workflow's timer runs this
   * long, so it ends with the database's window whatever the workflow's clock says.
   */
  windowLeftMs?: number;
}

/** A hold as the buyer sees it. */
export interface HoldView {
  holdId: string;
  seatIds: string[];
  expiresAt: string;
  amountCents: number;
}

export interface PurchaseRequest {
  holdId: string;
  paymentMethod: string;
}

export interface OrderView {
  orderId: string;
  status: 'confirmed';
  seatIds: string[];
  amountCents: number;
}

export interface ReleaseRequest {
  holdId: string;
}

export interface PaymentOutcome {
  paymentId: string;
  status: 'succeeded' | 'declined';
  declineCode?: string;
}

export type CheckoutState =
  | 'awaiting_hold'
  | 'holding'
  | 'held'
  | 'paying'
  | 'releasing'
  | 'confirmed'
  /** A charge without an order is being refunded; the refund workflow retries until it lands. */
  | 'refund_pending'
  | 'refunded'
  | 'released'
  | 'expired'
  | 'closed';

/** What the buyer's page must do to finish a payment (Stripe's `next_action`). */
export interface NextAction {
  type: string;
  url?: string;
}

/** The purchase's answer while the buyer authenticates (3-D Secure): the outcome arrives by webhook. */
export interface PaymentActionRequired {
  status: 'requires_action';
  paymentId: string;
  clientSecret: string;
  nextAction: NextAction;
}

export type PurchaseResult = OrderView | PaymentActionRequired;

/** The checkout's latest payment, as a reloaded page needs it to resume. */
export interface PaymentView {
  paymentId: string;
  status: 'requires_action' | 'succeeded' | 'declined' | 'refund_pending' | 'refunded';
  /** Only while the buyer must still act on it. */
  clientSecret?: string;
  nextAction?: NextAction;
}

/**
 * The checkout states written to the CheckoutState search attribute by a lean
 * checkout: where support staff look for a buyer who needs help. A payment
 * waiting on the bank (3-D Secure) rests in `paying`; a charge given back rests
 * in `refunded`. Other outcomes are found by EventId/BuyerId and the
 * execution's status, and cost no extra billable action.
 */
export const INDEXED_CHECKOUT_STATES: readonly CheckoutState[] = ['paying', 'refund_pending', 'refunded'];

export const CHECKOUT_STATE_KEY = defineSearchAttributeKey('CheckoutState', SearchAttributeType.KEYWORD);
export const EVENT_ID_KEY = defineSearchAttributeKey('EventId', SearchAttributeType.KEYWORD);
export const BUYER_ID_KEY = defineSearchAttributeKey('BuyerId', SearchAttributeType.KEYWORD);
export const QUEUE_STATE_KEY = defineSearchAttributeKey('QueueState', SearchAttributeType.KEYWORD);

/** Order ids derive from the hold, so a retried confirmation cannot create a second order. */
export const orderIdForHold = (holdId: string) => `ord_${holdId.replace(/^hold_/, '')}`;

export interface CheckoutView {
  state: CheckoutState;
  eventId: string;
  buyerId: string;
  hold?: HoldView;
  order?: OrderView;
  paymentAttempts: number;
  lastDecline?: string;
  payment?: PaymentView;
}

export const holdUpdate = defineUpdate<HoldView, [HoldRequest]>('hold');
export const purchaseUpdate = defineUpdate<PurchaseResult, [PurchaseRequest]>('purchase');
export const releaseUpdate = defineUpdate<void, [ReleaseRequest]>('release');
export const paymentOutcomeSignal = defineSignal<[PaymentOutcome]>('paymentOutcome');
export const checkoutQuery = defineQuery<CheckoutView>('checkout');
