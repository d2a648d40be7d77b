import type Stripe from 'stripe';
import type { ChargeRequest, ChargeResult } from './provider';
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

/** Test cards that need 3-D Secure: the charge waits for the outcome from Stripe's webhook. */
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
 * The development default: every charge goes over the real SDK and real HTTP
 * (to stripe-mock in development), and Stripe's test cards decide the outcome.
 */
export class TestCardPaymentProvider extends StripePaymentProvider {
  override readonly name = 'test-cards';

  constructor(stripe: Stripe, webhookSecret: string) {
    super(stripe, webhookSecret);
  }

  override async charge(req: ChargeRequest): Promise<ChargeResult> {
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

  protected override outcome(intent: Stripe.PaymentIntent, req: ChargeRequest): ChargeResult {
    if (AUTHENTICATING_TEST_CARDS.has(req.paymentMethod)) return { status: 'pending', providerRef: intent.id };
    return { status: 'succeeded', providerRef: intent.id };
  }
}
