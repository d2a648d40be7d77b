import type { Pool } from 'pg';
import type { Config } from '../platform/config';
import type { PaymentProvider } from './provider';
import { createStripeClient, StripePaymentProvider } from './stripe';
import { TestCardPaymentProvider } from './test-cards';

export type { NextAction, PaymentProvider, PaymentWebhook, ProviderPayment } from './provider';
export { chargeMetadata, InvalidWebhookError, PaymentUnavailableError } from './provider';

/** `ledger`: the database the development provider keeps its books in (it plays Stripe's side there). */
export function createPaymentProvider(
  config: Pick<Config, 'PAYMENT_PROVIDER' | 'STRIPE_SECRET_KEY' | 'STRIPE_API_URL' | 'STRIPE_WEBHOOK_SECRET'>,
  ledger: Pick<Pool, 'query'>,
): PaymentProvider {
  const stripe = createStripeClient(config.STRIPE_SECRET_KEY, config.STRIPE_API_URL);
  const secret = config.STRIPE_WEBHOOK_SECRET;
  return config.PAYMENT_PROVIDER === 'stripe'
    ? new StripePaymentProvider(stripe, secret)
    : new TestCardPaymentProvider(stripe, secret, ledger);
}
