import Stripe from 'stripe';
import {
  type ChargeRequest,
  type ChargeResult,
  InvalidWebhookError,
  type PaymentProvider,
  PaymentUnavailableError,
  type PaymentWebhook,
  type ProviderPayment,
  type ProviderPaymentStatus,
} from './provider';

export function createStripeClient(secretKey: string, apiUrl?: string): Stripe {
  const endpoint = apiUrl ? new URL(apiUrl) : undefined;
  return new Stripe(secretKey, {
    // Retries are the workflow's job (same idempotency key), so the SDK tries once.
    maxNetworkRetries: 0,
    timeout: 20_000,
    ...(endpoint && {
      host: endpoint.hostname,
      port: endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80),
      protocol: endpoint.protocol === 'https:' ? 'https' : 'http',
    }),
  });
}

/** Charges through Stripe's PaymentIntents API with one confirmed intent per idempotency key. */
export class StripePaymentProvider implements PaymentProvider {
  readonly name: string = 'stripe';

  constructor(
    protected readonly stripe: Stripe,
    protected readonly webhookSecret: string,
  ) {}

  async parseWebhook(rawBody: string, signature: string | undefined): Promise<PaymentWebhook | null> {
    let event: Stripe.Event;
    try {
      if (!signature) throw new Error('missing signature');
      event = await this.stripe.webhooks.constructEventAsync(rawBody, signature, this.webhookSecret);
    } catch (err) {
      throw new InvalidWebhookError(`webhook signature: ${(err as Error).message}`);
    }
    if (event.type !== 'payment_intent.succeeded' && event.type !== 'payment_intent.payment_failed') return null;
    const intent = event.data.object;
    if (event.type === 'payment_intent.succeeded') return { providerRef: intent.id, status: 'succeeded' };
    return { providerRef: intent.id, status: 'declined', declineCode: intent.last_payment_error?.decline_code ?? 'card_declined' };
  }

  async charge(req: ChargeRequest): Promise<ChargeResult> {
    try {
      return this.outcome(await this.createIntent(req), req);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeCardError) {
        return {
          status: 'declined',
          providerRef: err.payment_intent?.id ?? null,
          declineCode: err.decline_code ?? err.code ?? 'card_declined',
          message: err.message,
        };
      }
      throw asUnavailable(err);
    }
  }

  async cardFingerprint(paymentMethod: string, _buyerId: string): Promise<string | null> {
    try {
      const pm = await this.stripe.paymentMethods.retrieve(paymentMethod);
      return pm.card?.fingerprint ?? null;
    } catch (err) {
      // An unknown method is the charge's to decline; here it simply has no card.
      if (err instanceof Stripe.errors.StripeInvalidRequestError) return null;
      throw asUnavailable(err);
    }
  }

  /** One confirmed PaymentIntent per idempotency key: Stripe replays the first answer to a retry. */
  protected createIntent(req: ChargeRequest): Promise<Stripe.PaymentIntent> {
    return this.stripe.paymentIntents.create(
      {
        amount: req.amountCents,
        currency: req.currency,
        payment_method: req.paymentMethod,
        payment_method_types: ['card'],
        confirm: true,
        description: req.description,
        metadata: req.metadata,
      },
      { idempotencyKey: req.idempotencyKey },
    );
  }

  protected outcome(intent: Stripe.PaymentIntent, _req: ChargeRequest): ChargeResult {
    if (intent.status === 'succeeded') return { status: 'succeeded', providerRef: intent.id };
    if (intent.status === 'requires_payment_method' || intent.status === 'canceled') {
      const err = intent.last_payment_error;
      return {
        status: 'declined',
        providerRef: intent.id,
        declineCode: err?.decline_code ?? err?.code ?? 'card_declined',
        message: err?.message ?? 'The card was declined.',
      };
    }
    return { status: 'pending', providerRef: intent.id, clientSecret: intent.client_secret ?? '', nextAction: nextActionOf(intent) };
  }

  async refund(providerRef: string, idempotencyKey: string): Promise<{ refundRef: string }> {
    try {
      const refund = await this.stripe.refunds.create({ payment_intent: providerRef }, { idempotencyKey });
      return { refundRef: refund.id };
    } catch (err) {
      throw asUnavailable(err);
    }
  }

  async cancel(providerRef: string, idempotencyKey: string): Promise<ProviderPayment> {
    try {
      return paymentOf(await this.stripe.paymentIntents.cancel(providerRef, {}, { idempotencyKey }));
    } catch (err) {
      // What Stripe answers when the payment completed first: the charge stands and the caller must act on it.
      if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'payment_intent_unexpected_state') {
        return this.retrieve(providerRef);
      }
      throw asUnavailable(err);
    }
  }

  async retrieve(providerRef: string): Promise<ProviderPayment> {
    try {
      return paymentOf(await this.stripe.paymentIntents.retrieve(providerRef, { expand: ['latest_charge'] }));
    } catch (err) {
      throw asUnavailable(err);
    }
  }

  async listPayments(opts: { since: Date; eventIds?: string[] }): Promise<ProviderPayment[]> {
    const wanted = opts.eventIds && new Set(opts.eventIds);
    const found: ProviderPayment[] = [];
    try {
      const list = this.stripe.paymentIntents.list({
        created: { gte: Math.floor(opts.since.getTime() / 1000) },
        limit: 100,
        expand: ['data.latest_charge'],
      });
      for await (const intent of list) {
        if (intent.metadata?.onsale !== '1') continue;
        if (wanted && !wanted.has(intent.metadata.eventId ?? '')) continue;
        found.push(paymentOf(intent));
      }
    } catch (err) {
      throw asUnavailable(err);
    }
    return found;
  }
}

function nextActionOf(intent: Stripe.PaymentIntent): { type: string; url?: string } {
  const next = intent.next_action;
  if (!next) return { type: 'use_stripe_sdk' };
  const url = next.redirect_to_url?.url ?? undefined;
  return { type: next.type, ...(url && { url }) };
}

function statusOf(intent: Stripe.PaymentIntent): ProviderPaymentStatus {
  switch (intent.status) {
    case 'succeeded': {
      const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
      return charge && (charge.refunded || charge.amount_refunded > 0) ? 'refunded' : 'succeeded';
    }
    case 'requires_action':
    case 'requires_confirmation':
      return 'requires_action';
    case 'processing':
    case 'requires_capture':
      return 'processing';
    case 'canceled':
      return 'canceled';
    default:
      return 'failed';
  }
}

function paymentOf(intent: Stripe.PaymentIntent): ProviderPayment {
  const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  return {
    providerRef: intent.id,
    status: statusOf(intent),
    amountCents: intent.amount,
    metadata: { ...(intent.metadata ?? {}) },
    refundRef: charge?.refunds?.data[0]?.id ?? null,
    createdAt: new Date(intent.created * 1000),
  };
}

function asUnavailable(err: unknown): Error {
  if (err instanceof Stripe.errors.StripeInvalidRequestError || err instanceof Stripe.errors.StripeAuthenticationError) {
    return err; // a request Stripe will never accept: retrying changes nothing
  }
  return new PaymentUnavailableError(`payment provider unavailable: ${(err as Error).message}`);
}
