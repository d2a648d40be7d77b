/** The payment provider boundary: charge, refund and cancel, each idempotent by key. */

export interface ChargeRequest {
  amountCents: number;
  currency: string;
  paymentMethod: string;
  idempotencyKey: string;
  description: string;
  metadata: Record<string, string>;
}

export type ChargeResult =
  | { status: 'succeeded'; providerRef: string }
  | { status: 'declined'; providerRef: string | null; declineCode: string; message: string }
  /** The provider needs more time (e.g. 3-D Secure); the outcome arrives by webhook. */
  | { status: 'pending'; providerRef: string };

/** A payment's outcome as the provider's webhook reports it. */
export interface PaymentWebhook {
  providerRef: string;
  status: 'succeeded' | 'declined';
  declineCode?: string;
}

export interface PaymentProvider {
  readonly name: string;
  charge(req: ChargeRequest): Promise<ChargeResult>;
  refund(providerRef: string, idempotencyKey: string): Promise<{ refundRef: string }>;
  cancel(providerRef: string, idempotencyKey: string): Promise<void>;
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
