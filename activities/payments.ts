import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { withTransaction } from '../db/pool';
import { cardLimitOfHold, claimCardUse } from '../db/queries/card-uses';
import { extendHoldForPayment as extendHoldQuery } from '../db/queries/seats';
import { findOrderByHold } from '../db/queries/orders';
import { beginPayment, claimForRefund, findPayment, markRefunded, settleNeverCharged, settlePayment } from '../db/queries/payments';
import type { NextAction, OrderView } from '../domain/checkout';
import type { RefundResult } from '../domain/refund';
import { chargeMetadata } from '../payments/provider';
import type { ActivityDeps } from './deps';

export interface ChargeInput {
  /** Derived from the checkout, the hold and the attempt: a retried activity reuses it. */
  idempotencyKey: string;
  checkoutId: string;
  holdId: string;
  eventId: string;
  buyerId: string;
  amountCents: number;
  paymentMethod: string;
}

export type ChargeOutcome =
  | { status: 'succeeded'; paymentId: string }
  | { status: 'declined'; paymentId: string; declineCode: string; message: string }
  | { status: 'pending'; paymentId: string; clientSecret?: string; nextAction?: NextAction };

/** The longest a payment in flight may keep a hold's seats past what the database already allows. */
export const MAX_HOLD_EXTENSION_SECONDS = 900;

const paymentIdFor = (key: string) => `pay_${createHash('sha256').update(key).digest('base64url').slice(0, 24)}`;

export function createPaymentActivities(deps: ActivityDeps) {
  /**
   * The per-card limit, checked before anything is charged: the card's
   * fingerprint counts against the event's maxSeatsPerBuyer across every
   * account. Refused as a final LIMIT_EXCEEDED; the hold stays, like after a
   * decline, so the buyer may pay with another card.
   */
  async function enforceCardLimit(input: ChargeInput): Promise<void> {
    const limit = await cardLimitOfHold(deps.pool, input.holdId);
    if (!limit?.cardLimit) return;
    const fingerprint = await deps.payments.cardFingerprint(input.paymentMethod, input.buyerId);
    if (!fingerprint) return;
    const claim = await withTransaction(deps.pool, (client) =>
      claimCardUse(client, { eventId: limit.eventId, holdId: input.holdId, fingerprint, seats: limit.seats, maxSeats: limit.maxSeats }),
    );
    if (!claim.ok) {
      throw ApplicationFailure.create({
        type: 'LIMIT_EXCEEDED',
        message: `this card already pays for ${claim.seatsOnCard} seats of this event; at most ${limit.maxSeats} per card`,
        details: [{ reason: 'seats_per_card', maxSeatsPerCard: limit.maxSeats, seatsOnCard: claim.seatsOnCard, holdId: input.holdId }],
        nonRetryable: true,
      });
    }
  }

  return {
    async chargePayment(input: ChargeInput): Promise<ChargeOutcome> {
      // A payment that already settled answers as it did; only a new (or interrupted) charge is held to the card limit.
      const prior = await findPayment(deps.pool, paymentIdFor(input.idempotencyKey));
      if (!prior || prior.status === 'pending') await enforceCardLimit(input);
      const payment = await beginPayment(deps.pool, {
        id: paymentIdFor(input.idempotencyKey),
        idempotencyKey: input.idempotencyKey,
        checkoutId: input.checkoutId,
        holdId: input.holdId,
        eventId: input.eventId,
        buyerId: input.buyerId,
        provider: deps.payments.name,
        amountCents: input.amountCents,
        currency: deps.settings.currency,
      });
      if (payment.status === 'succeeded' || payment.status === 'refunded') {
        return { status: 'succeeded', paymentId: payment.id };
      }
      if (payment.status === 'declined') {
        return {
          status: 'declined',
          paymentId: payment.id,
          declineCode: payment.declineCode ?? 'card_declined',
          message: 'The card was declined.',
        };
      }
      const result = await deps.payments.charge({
        amountCents: input.amountCents,
        currency: deps.settings.currency,
        paymentMethod: input.paymentMethod,
        idempotencyKey: input.idempotencyKey,
        description: `onsale hold ${input.holdId}`,
        metadata: chargeMetadata({ eventId: input.eventId, checkoutId: input.checkoutId, holdId: input.holdId, paymentId: payment.id }),
      });
      if (result.status === 'declined') {
        await settlePayment(deps.pool, payment.id, {
          status: 'declined',
          providerRef: result.providerRef,
          declineCode: result.declineCode,
        });
        return { status: 'declined', paymentId: payment.id, declineCode: result.declineCode, message: result.message };
      }
      await settlePayment(deps.pool, payment.id, { status: result.status, providerRef: result.providerRef });
      if (result.status === 'pending') {
        return { status: 'pending', paymentId: payment.id, clientSecret: result.clientSecret, nextAction: result.nextAction };
      }
      return { status: result.status, paymentId: payment.id };
    },

    /**
     * Before charging: keeps the hold's seats for `seconds` more in Postgres,
     * only if the hold still owns every one of them. `owned: false` means the
     * seats are gone (or going) and nothing may be charged.
     */
    async extendHoldForPayment(input: { holdId: string; seconds: number }): Promise<{ owned: boolean; expiresAt: string | null }> {
      const seconds = Math.max(1, Math.min(MAX_HOLD_EXTENSION_SECONDS, Math.round(input.seconds)));
      const r = await extendHoldQuery(deps.pool, input.holdId, seconds);
      if (r.owned && r.eventId) {
        // The claim gate follows, so it does not offer the seats while the payment runs; Postgres decides either way.
        await deps.seatClaims.record(r.eventId, input.holdId, r.seatIds, r.remainingMs).catch((err: unknown) => {
          deps.logger.warn({ err, holdId: input.holdId }, 'claim not extended; Postgres still refuses the seats to others');
        });
      }
      return { owned: r.owned, expiresAt: r.expiresAt?.toISOString() ?? null };
    },

    /** The confirmed order this payment paid for, if its confirmation committed (whatever its caller heard). */
    /**
     * The hold's order: paid by `paymentId` when it is given, or by any payment of this hold (a purchase
     * whose workflow task was lost after its local activities committed finds its own order so).
     */
    async orderForHold(input: { holdId: string; paymentId?: string }): Promise<OrderView | null> {
      const order = await findOrderByHold(deps.pool, input.holdId);
      return order && (input.paymentId === undefined || order.paymentId === input.paymentId)
        ? { orderId: order.orderId, status: 'confirmed', seatIds: order.seatIds, amountCents: order.amountCents }
        : null;
    },

    /**
     * The compensation's first step, in one transaction with confirmation's own
     * lock: either the order committed (whatever its caller heard) and is
     * answered, or the refund is claimed and no confirmation can use this
     * payment from then on. So a buyer told "refunded" never ends up with an order.
     */
    async claimRefund(input: { holdId: string; paymentId: string }): Promise<{ order: OrderView | null }> {
      const claim = await withTransaction(deps.pool, (client) => claimForRefund(client, input.paymentId));
      if (!claim) throw ApplicationFailure.nonRetryable(`payment ${input.paymentId} does not exist`, 'NOT_FOUND');
      if (!claim.orderId) return { order: null };
      const order = await findOrderByHold(deps.pool, input.holdId);
      return { order: order && { orderId: order.orderId, status: 'confirmed', seatIds: order.seatIds, amountCents: order.amountCents } };
    },

    /**
     * Refunds a payment that paid for no order, whatever onsale last recorded of
     * it: the provider's own state decides. Idempotent (one refund per payment,
     * keyed by it); a payment with a confirmed order is never refunded. Outages
     * throw, and the refund workflow retries for as long as it takes.
     */
    async refundPayment(input: { paymentId: string }): Promise<RefundResult> {
      const { paymentId } = input;
      const claim = await withTransaction(deps.pool, (client) => claimForRefund(client, paymentId));
      if (!claim) throw ApplicationFailure.nonRetryable(`payment ${paymentId} does not exist`, 'NOT_FOUND');
      const { payment, orderId } = claim;
      if (orderId) return { status: 'kept', paymentId, orderId };
      if (payment.status === 'refunded') return { status: 'refunded', paymentId, refundRef: payment.refundRef ?? 'unknown' };
      if (!payment.providerRef) {
        // The charge never reached the provider (or was declined before it made one).
        await settleNeverCharged(deps.pool, paymentId, 'not_charged');
        return { status: 'not_charged', paymentId };
      }
      let atProvider = await deps.payments.retrieve(payment.providerRef);
      if (atProvider.status === 'requires_action' || atProvider.status === 'processing') {
        atProvider = await deps.payments.cancel(payment.providerRef, `cancel:${paymentId}`);
      }
      if (atProvider.status === 'refunded' && atProvider.refundRef) {
        await markRefunded(deps.pool, paymentId, atProvider.refundRef);
        return { status: 'refunded', paymentId, refundRef: atProvider.refundRef };
      }
      if (atProvider.status === 'succeeded' || atProvider.status === 'refunded') {
        const { refundRef } = await deps.payments.refund(payment.providerRef, `refund:${paymentId}`);
        await markRefunded(deps.pool, paymentId, refundRef);
        return { status: 'refunded', paymentId, refundRef };
      }
      if (atProvider.status === 'processing' || atProvider.status === 'requires_action') {
        throw new Error(`payment ${paymentId} is still ${atProvider.status} at the provider; retrying`);
      }
      await settleNeverCharged(deps.pool, paymentId, atProvider.status === 'canceled' ? 'canceled' : 'declined');
      return { status: 'not_charged', paymentId };
    },

    /** Records the outcome Stripe's webhook reported for a pending payment. */
    async recordPaymentOutcome(input: { paymentId: string; status: 'succeeded' | 'declined'; declineCode?: string }): Promise<void> {
      await settlePayment(deps.pool, input.paymentId, {
        status: input.status,
        providerRef: null,
        ...(input.declineCode && { declineCode: input.declineCode }),
      });
    },

    /**
     * Gives up on a payment whose outcome never arrived, and answers what became
     * of it: `succeeded` when the provider completed it before the cancel (its
     * webhook may still be on the way), which the caller must honour or refund.
     */
    async cancelPayment(input: { paymentId: string }): Promise<{ status: 'succeeded' | 'declined' | 'refunded' }> {
      const payment = await findPayment(deps.pool, input.paymentId);
      if (!payment) return { status: 'declined' };
      if (payment.status !== 'pending') return { status: payment.status };
      if (payment.providerRef) {
        const atProvider = await deps.payments.cancel(payment.providerRef, `cancel:${payment.id}`);
        if (atProvider.status === 'succeeded') {
          const row = await settlePayment(deps.pool, payment.id, { status: 'succeeded', providerRef: null });
          return { status: row.status === 'succeeded' ? 'succeeded' : 'declined' };
        }
        if (atProvider.status === 'refunded' && atProvider.refundRef) {
          await markRefunded(deps.pool, payment.id, atProvider.refundRef);
          return { status: 'refunded' };
        }
      }
      await settlePayment(deps.pool, payment.id, { status: 'declined', providerRef: null, declineCode: 'timed_out' });
      return { status: 'declined' };
    },
  };
}
