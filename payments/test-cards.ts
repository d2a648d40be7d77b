import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type Stripe from 'stripe';
import { findIntent, type LedgerIntent, listIntents, moveIntent, recordIntent, refundIntent } from '../db/queries/provider-ledger';
import { type ChargeRequest, type ChargeResult, PaymentUnavailableError, type ProviderPayment } from './provider';
import { StripePaymentProvider } from './stripe';

/**
 * Stripe's documented test payment methods that fail, with the decline code
 * Stripe reports for each. stripe-mock validates every request against
 * Stripe's API definition but answers with fixed sample objects, so the
 * development provider decides the outcome from the test card itself.
 */
export const DECLINING_TEST_CARDS: Readonly<Record<string, string>> = {
  pm_card_chargeDeclined: 'generic_decline',
  pm_card_chargeDeclinedInsufficientFunds: 'insufficient_funds',
  pm_card_chargeDeclinedLostCard: 'lost_card',
  pm_card_chargeDeclinedStolenCard: 'stolen_card',
  pm_card_chargeDeclinedExpiredCard: 'expired_card',
  pm_card_chargeDeclinedIncorrectCvc: 'incorrect_cvc',
  pm_card_chargeDeclinedProcessingError: 'processing_error',
  pm_card_chargeDeclinedFraudulent: 'fraudulent',
};

/** Test cards that need 3-D Secure: the buyer authenticates on the challenge page, and the outcome arrives by webhook. */
export const AUTHENTICATING_TEST_CARDS = new Set(['pm_card_authenticationRequired', 'pm_card_threeDSecure2Required']);

export const SUCCEEDING_TEST_CARDS = new Set([
  'pm_card_visa',
  'pm_card_visa_debit',
  'pm_card_mastercard',
  'pm_card_amex',
  'pm_card_discover',
  'pm_card_jcb',
  'pm_card_unionpay',
]);

/**
 * Test cards with an owner: `pm_card_visa__<label>` is a card of its own
 * (the label stands for its number) that behaves like `pm_card_visa`, so a
 * simulated farm can share one card across accounts, or give each bot its own.
 * A bare test card stands for the buyer's own card of that brand: distinct per
 * buyer, so buyers who all pay with `pm_card_visa` are not one card.
 */
export function testCard(paymentMethod: string): { base: string; label: string | null } {
  const i = paymentMethod.indexOf('__');
  return i < 0 ? { base: paymentMethod, label: null } : { base: paymentMethod.slice(0, i), label: paymentMethod.slice(i + 2) || null };
}

export function testCardFingerprint(paymentMethod: string, buyerId: string): string {
  const { base, label } = testCard(paymentMethod);
  return `fp_${createHash('sha256')
    .update(`${base}\n${label ?? `buyer:${buyerId}`}`)
    .digest('base64url')
    .slice(0, 16)}`;
}

/** Where the development provider sends a buyer to authenticate: the API's challenge page (api/routes/authentication.ts). */
export const challengePath = (providerRef: string) => `/dev/3ds/${encodeURIComponent(providerRef)}`;

/**
 * The development default: every call goes over the real SDK and real HTTP
 * (to stripe-mock in development), and Stripe's test cards decide the outcome.
 * stripe-mock keeps no state, so this adapter keeps the provider's books in
 * its own ledger (db/queries/provider-ledger.ts) and follows Stripe's state
 * machine there: an intent is created once per idempotency key, a 3-D Secure
 * intent waits in `requires_action` until the challenge page completes it, a
 * cancel after completion answers `payment_intent_unexpected_state`, and a
 * refund is made once.
 */
export class TestCardPaymentProvider extends StripePaymentProvider {
  override readonly name = 'test-cards';

  constructor(
    stripe: Stripe,
    webhookSecret: string,
    private readonly ledger: Pick<Pool, 'query'>,
  ) {
    super(stripe, webhookSecret);
  }

  override async cardFingerprint(paymentMethod: string, buyerId: string): Promise<string | null> {
    const { base } = testCard(paymentMethod);
    const known = base in DECLINING_TEST_CARDS || SUCCEEDING_TEST_CARDS.has(base) || AUTHENTICATING_TEST_CARDS.has(base);
    return known ? testCardFingerprint(paymentMethod, buyerId) : null;
  }

  override async charge(card: ChargeRequest): Promise<ChargeResult> {
    // A labelled test card behaves as its base card; the provider (and the ledger) see the base card.
    const req = { ...card, paymentMethod: testCard(card.paymentMethod).base };
    const declineCode = DECLINING_TEST_CARDS[req.paymentMethod];
    if (declineCode) {
      return { status: 'declined', providerRef: null, declineCode, message: 'Your card was declined.' };
    }
    if (!SUCCEEDING_TEST_CARDS.has(req.paymentMethod) && !AUTHENTICATING_TEST_CARDS.has(req.paymentMethod)) {
      return {
        status: 'declined',
        providerRef: null,
        declineCode: 'invalid_payment_method',
        message: `No such test payment method: ${req.paymentMethod}`,
      };
    }
    return super.charge(req);
  }

  /** The ledger's intent for this key, created over stripe-mock the first time (the ledger replays it after, as Stripe does). */
  protected override async createIntent(req: ChargeRequest): Promise<Stripe.PaymentIntent> {
    const existing = await this.ledger.query<{ id: string }>('SELECT id FROM test_provider_intents WHERE idempotency_key = $1', [
      req.idempotencyKey,
    ]);
    const created = existing.rows[0] ? null : await super.createIntent(req);
    const id = existing.rows[0]?.id ?? created!.id;
    const intent = await recordIntent(this.ledger, {
      id,
      idempotencyKey: req.idempotencyKey,
      amountCents: req.amountCents,
      currency: req.currency,
      paymentMethod: req.paymentMethod,
      status: AUTHENTICATING_TEST_CARDS.has(req.paymentMethod) ? 'requires_action' : 'succeeded',
      clientSecret: `${id}_secret_${randomBytes(12).toString('base64url')}`,
      metadata: req.metadata,
    });
    return { ...(created ?? ({} as Stripe.PaymentIntent)), id: intent.id, client_secret: intent.clientSecret };
  }

  protected override outcome(intent: Stripe.PaymentIntent, req: ChargeRequest): ChargeResult {
    if (AUTHENTICATING_TEST_CARDS.has(req.paymentMethod)) {
      return {
        status: 'pending',
        providerRef: intent.id,
        clientSecret: intent.client_secret ?? '',
        nextAction: { type: 'redirect_to_url', url: challengePath(intent.id) },
      };
    }
    return { status: 'succeeded', providerRef: intent.id };
  }

  override async cancel(providerRef: string, idempotencyKey: string): Promise<ProviderPayment> {
    await this.overHttp(() => this.stripe.paymentIntents.cancel(providerRef, {}, { idempotencyKey }));
    return toPayment(
      this.known(await moveIntent(this.ledger, providerRef, ['requires_action', 'requires_payment_method'], 'canceled'), providerRef),
    );
  }

  override async retrieve(providerRef: string): Promise<ProviderPayment> {
    return toPayment(this.known(await findIntent(this.ledger, providerRef), providerRef));
  }

  override async refund(providerRef: string, idempotencyKey: string): Promise<{ refundRef: string }> {
    const refund = await this.overHttp(() => this.stripe.refunds.create({ payment_intent: providerRef }, { idempotencyKey }));
    const refundRef = await refundIntent(this.ledger, providerRef, refund.id);
    if (!refundRef) throw new Error(`payment ${providerRef} was never charged: nothing to refund`);
    return { refundRef };
  }

  override async listPayments(opts: { since: Date; eventIds?: string[] }): Promise<ProviderPayment[]> {
    return (await listIntents(this.ledger, opts)).map(toPayment);
  }

  /**
   * The issuer's side of the challenge: only a payment waiting for
   * authentication can complete it, and only with its client secret (as
   * Stripe.js needs it).
   */
  async completeAuthentication(providerRef: string, clientSecret: string, succeed: boolean): Promise<ProviderPayment | null> {
    const intent = await findIntent(this.ledger, providerRef);
    if (!intent || intent.clientSecret !== clientSecret) return null;
    return toPayment(
      this.known(
        await moveIntent(this.ledger, providerRef, ['requires_action'], succeed ? 'succeeded' : 'requires_payment_method'),
        providerRef,
      ),
    );
  }

  /** A webhook event for this payment as Stripe would send it, signed with the configured secret. */
  signedWebhook(payment: ProviderPayment): { payload: string; signature: string } {
    const succeeded = payment.status === 'succeeded';
    const payload = JSON.stringify({
      id: `evt_${randomBytes(12).toString('hex')}`,
      object: 'event',
      api_version: '2024-06-20',
      created: Math.floor(Date.now() / 1000),
      type: succeeded ? 'payment_intent.succeeded' : 'payment_intent.payment_failed',
      data: {
        object: {
          id: payment.providerRef,
          object: 'payment_intent',
          amount: payment.amountCents,
          status: succeeded ? 'succeeded' : 'requires_payment_method',
          metadata: payment.metadata,
          ...(!succeeded && {
            last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'authentication_failed' },
          }),
        },
      },
    });
    return { payload, signature: this.stripe.webhooks.generateTestHeaderString({ payload, secret: this.webhookSecret }) };
  }

  private async overHttp<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw new PaymentUnavailableError(`payment provider unavailable: ${(err as Error).message}`);
    }
  }

  private known(intent: LedgerIntent | null, providerRef: string): LedgerIntent {
    if (!intent) throw new Error(`no such payment at the provider: ${providerRef}`);
    return intent;
  }
}

function toPayment(i: LedgerIntent): ProviderPayment {
  const status =
    i.status === 'succeeded' ? (i.refundId ? 'refunded' : 'succeeded') : i.status === 'requires_payment_method' ? 'failed' : i.status;
  return { providerRef: i.id, status, amountCents: i.amountCents, metadata: i.metadata, refundRef: i.refundId, createdAt: i.createdAt };
}
