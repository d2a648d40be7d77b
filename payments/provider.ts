/** The payment provider boundary: charge, refund and cancel, each idempotent by key. */

export interface ChargeRequest {
  amountCents: number;
  currency: string;
  paymentMethod: string;
  idempotencyKey: string;
  description: string;
  /** Set on the provider's record so reconciliation can find every charge onsale made (see chargeMetadata). */
  metadata: Record<string, string>;
}

/** What the buyer's page must do to finish a payment: Stripe's `next_action`. */
export interface NextAction {
  /** Stripe's type: `use_stripe_sdk` (Stripe.js handles it) or `redirect_to_url` (open `url`). */
  type: string;
  url?: string;
}

export type ChargeResult =
  | { status: 'succeeded'; providerRef: string }
  | { status: 'declined'; providerRef: string | null; declineCode: string; message: string }
  /** The buyer must authenticate (3-D Secure); the outcome arrives by webhook. */
  | { status: 'pending'; providerRef: string; clientSecret: string; nextAction: NextAction };

/** A payment's outcome as the provider's webhook reports it. */
export interface PaymentWebhook {
  providerRef: string;
  status: 'succeeded' | 'declined';
  declineCode?: string;
}

/** A payment as the provider's own books have it. */
export type ProviderPaymentStatus = 'succeeded' | 'refunded' | 'requires_action' | 'processing' | 'canceled' | 'failed';

export interface ProviderPayment {
  providerRef: string;
  status: ProviderPaymentStatus;
  amountCents: number;
  metadata: Record<string, string>;
  refundRef: string | null;
  createdAt: Date;
}

/** The metadata onsale sets on every charge; `onsale` marks the charges that are onsale's in a shared account. */
export function chargeMetadata(m: { eventId: string; checkoutId: string; holdId: string; paymentId: string }): Record<string, string> {
  return { onsale: '1', ...m };
}

export interface PaymentProvider {
  readonly name: string;
  charge(req: ChargeRequest): Promise<ChargeResult>;
  /**
   * The card's fingerprint (Stripe's PaymentMethod card.fingerprint): the same
   * for every payment method made from one card number, whoever made it; null
   * for a method that is not a card. `buyerId` is for the development
   * provider's bare test cards only (see test-cards.ts).
   */
  cardFingerprint(paymentMethod: string, buyerId: string): Promise<string | null>;
  refund(providerRef: string, idempotencyKey: string): Promise<{ refundRef: string }>;
  /**
   * Cancels a payment that has not completed and answers the payment as the
   * provider has it afterwards: `canceled`, or `succeeded` when it completed
   * first (Stripe's payment_intent_unexpected_state), which the caller must act on.
   */
  cancel(providerRef: string, idempotencyKey: string): Promise<ProviderPayment>;
  retrieve(providerRef: string): Promise<ProviderPayment>;
  /** Every payment onsale made since `since` (by the metadata it sets), optionally for these events only. */
  listPayments(opts: { since: Date; eventIds?: string[] }): Promise<ProviderPayment[]>;
  /**
   * Verifies a webhook's signature over its raw body and reads the payment
   * outcome it reports: null for events that report none. Throws
   * InvalidWebhookError when the signature does not verify.
   */
  parseWebhook(rawBody: string, signature: string | undefined): Promise<PaymentWebhook | null>;
}

export class InvalidWebhookError extends Error {
  override readonly name = 'InvalidWebhookError';
}

/** Thrown for outages and timeouts: the caller retries with the same idempotency key. */
export class PaymentUnavailableError extends Error {
  override readonly name = 'PaymentUnavailableError';
}
