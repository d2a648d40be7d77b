/**
 * A winning hold attempt (shape 4): Postgres takes the seats in one round
 * trip, then the buyer's checkout is started already held. The buyer waits for
 * the start to be recorded, not for a workflow task, so a hold is answered in
 * one Postgres call and one Temporal call. If the start fails, the seats go
 * back at once; if the process dies between the two, the database gives them
 * back at the hold's expiry (a held seat past its expiry is free to every
 * reserve) and the claim gate's entry expires with it.
 */
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { BUYER_ID_KEY, EVENT_ID_KEY, HELD_AT_START_SHAPE, type HoldRequest, type HoldView } from '../domain/checkout';
import { checkoutInProgress } from '../domain/errors';
import { checkoutWorkflowId } from '../domain/ids';
import type { Logger } from '../platform/logger';
import type { checkout } from '../workflows/checkout';
import type { SeatHolds } from './seat-holds';

export interface HeldCheckoutDeps {
  temporal: Client;
  taskQueue: string;
  holds: SeatHolds;
  logger: Logger;
}

export interface HeldCheckoutInput {
  eventId: string;
  buyerId: string;
  /** The claim gate's id for the hold, which Postgres and the checkout take too. */
  holdId: string;
  request: HoldRequest;
}

/**
 * Reserves and starts the checkout; answers the hold as the buyer sees it.
 * Throws the reserve's DomainError when Postgres refuses (nothing taken), and
 * CHECKOUT_IN_PROGRESS when the buyer's checkout for the event is already
 * running (its seats given back first).
 */
export async function startHeldCheckout(deps: HeldCheckoutDeps, input: HeldCheckoutInput): Promise<HoldView> {
  const { eventId, buyerId, holdId } = input;
  const workflowId = checkoutWorkflowId(eventId, buyerId);
  const reserved = await deps.holds.reserve({ holdId, eventId, buyerId, checkoutId: workflowId, request: input.request });
  const reservedAt = performance.now();
  const leftNow = () => Math.max(0, Math.round(reserved.windowLeftMs - (performance.now() - reservedAt)));
  try {
    await deps.temporal.workflow.start<typeof checkout>('checkout', {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [
        {
          eventId,
          buyerId,
          hold: {
            holdId,
            seatIds: reserved.seatIds,
            amountCents: reserved.amountCents,
            holdSeconds: reserved.holdSeconds,
            windowLeftMs: leftNow(),
            windowEndsAtMs: Date.parse(reserved.dbExpiresAt) - deps.holds.graceSeconds * 1000,
            shape: HELD_AT_START_SHAPE,
          },
        },
      ],
      // One checkout per buyer and event at a time; a closed one may be followed by a new one.
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: EVENT_ID_KEY, value: eventId },
        { key: BUYER_ID_KEY, value: buyerId },
      ],
    });
  } catch (err) {
    // No checkout owns the hold: give the seats back now rather than at the database's expiry. (Had the start
    // been recorded after all, that checkout finds its hold gone before any charge and charges nothing.)
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      deps.logger.warn({ err, eventId, holdId }, 'checkout not started; its seats are given back');
    }
    await deps.holds
      .release({ eventId, holdId, outcome: 'released' })
      .catch((e: unknown) => deps.logger.warn({ err: e, eventId, holdId }, 'hold not released; it expires by itself'));
    // Two attempts of one buyer at once: both reserved, the other started; this one gave its seats back.
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw checkoutInProgress();
    throw err;
  }
  return {
    holdId,
    seatIds: reserved.seatIds,
    amountCents: reserved.amountCents,
    expiresAt: new Date(Date.now() + leftNow()).toISOString(),
  };
}
