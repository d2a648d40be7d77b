/**
 * How the buyer gives a card. In development: Stripe's documented test cards
 * (the development provider decides the outcome from them; no money moves).
 * In production: Stripe's Payment Element from Stripe.js (loaded by the page
 * only in production), which turns the card into a PaymentMethod id without
 * the card ever reaching onsale; the purchase sends that id.
 */
import { config } from './config';
import { h } from './format';

export interface CardEntry {
  /** The fields to show inside the payment form. */
  element: HTMLElement;
  /** The payment method to charge: a test card id, or the PaymentMethod Stripe created. Throws with a message to show. */
  paymentMethod(): Promise<string>;
}

const TEST_CARDS = [
  { id: 'pm_card_visa', label: 'Visa ending 4242', hint: 'approved' },
  { id: 'pm_card_mastercard', label: 'Mastercard ending 4444', hint: 'approved' },
  { id: 'pm_card_chargeDeclined', label: 'Visa ending 0002', hint: 'always declined' },
];

/** The part of Stripe.js the page uses (https://docs.stripe.com/js). */
interface StripeElements {
  create(type: 'payment', options?: Record<string, unknown>): { mount(el: HTMLElement): void };
  submit(): Promise<{ error?: { message?: string } }>;
}
interface StripeJs {
  elements(options: { mode: 'payment'; amount: number; currency: string; paymentMethodCreation: 'manual' }): StripeElements;
  createPaymentMethod(options: { elements: StripeElements }): Promise<{ paymentMethod?: { id: string }; error?: { message?: string } }>;
}
type StripeFactory = (publishableKey: string) => StripeJs;

function testCards(): CardEntry {
  const element = h(
    'fieldset',
    { class: 'cards', 'data-testid': 'test-cards' },
    h('legend', {}, 'Test card ', h('span', { class: 'muted' }, '(no real money is charged)')),
    ...TEST_CARDS.map((card, k) =>
      h(
        'label',
        { class: 'card' },
        h('input', { type: 'radio', name: 'card', value: card.id, checked: k === 0 }),
        h('span', {}, card.label, h('small', {}, ` — ${card.hint}`)),
      ),
    ),
  );
  return {
    element,
    paymentMethod: async () => element.querySelector<HTMLInputElement>('input:checked')?.value ?? 'pm_card_visa',
  };
}

function paymentElement(amountCents: number): CardEntry {
  const element = h('div', { class: 'payment-element', 'data-testid': 'payment-element' });
  const factory = (window as unknown as { Stripe?: StripeFactory }).Stripe;
  if (!factory || !config.stripePublishableKey) {
    element.textContent = 'Card payments are unavailable right now. Please reload the page.';
    return {
      element,
      paymentMethod: () => Promise.reject(new Error('Card payments are unavailable right now. Please reload the page.')),
    };
  }
  const stripe = factory(config.stripePublishableKey);
  const elements = stripe.elements({ mode: 'payment', amount: amountCents, currency: config.currency, paymentMethodCreation: 'manual' });
  elements.create('payment').mount(element);
  return {
    element,
    async paymentMethod() {
      const checked = await elements.submit();
      if (checked.error) throw new Error(checked.error.message ?? 'Check your card details.');
      const created = await stripe.createPaymentMethod({ elements });
      if (created.error || !created.paymentMethod) throw new Error(created.error?.message ?? 'The card could not be used.');
      return created.paymentMethod.id;
    },
  };
}

/** Test cards in development, the Payment Element in production. */
export function cardEntry(amountCents: number): CardEntry {
  return config.mode === 'production' ? paymentElement(amountCents) : testCards();
}
