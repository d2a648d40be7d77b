/**
 * 3-D Secure on the buyer page. A purchase that answers 202 requires_action
 * opens the bank's challenge (in development, the API's issuer page at
 * `nextAction.url`) in a dialog, then follows the checkout (GET /checkout)
 * until the provider's webhook has decided: the order, or why not. A page that
 * reloads mid-challenge resumes from the same checkout view.
 */
import { ApiError, type PageApi } from './api';
import { h } from './format';

export interface ConfirmedOrder {
  orderId: string;
  seatIds: string[];
  amountCents: number;
}

interface PaymentAction {
  status: 'requires_action';
  paymentId: string;
  clientSecret: string;
  nextAction: { type: string; url?: string };
}

interface CheckoutView {
  state: string;
  order?: ConfirmedOrder & { status: string };
  payment?: { paymentId: string; status: string; clientSecret?: string; nextAction?: { type: string; url?: string } };
  lastDecline?: string;
}

const POLL_MS = 1000;

async function checkoutView(api: PageApi, eventId: string): Promise<CheckoutView> {
  const res = await fetch(`/v1/events/${encodeURIComponent(eventId)}/checkout`, {
    headers: api.token ? { authorization: `Bearer ${api.token}` } : {},
  });
  if (!res.ok) throw new ApiError(res.status, res.status === 404 ? 'HOLD_EXPIRED' : 'UNAVAILABLE', 'the checkout could not be read');
  return (await res.json()) as CheckoutView;
}

function challengeDialog(action: PaymentAction): HTMLDialogElement | null {
  if (!action.nextAction.url) return null; // use_stripe_sdk: Stripe.js would take over here
  const src = `${action.nextAction.url}?client_secret=${encodeURIComponent(action.clientSecret)}`;
  const dialog = h(
    'dialog',
    { class: 'panel narrow', 'aria-labelledby': 'challenge-title', 'data-testid': 'authentication' },
    h('h2', { id: 'challenge-title' }, 'Confirm the payment with your bank'),
    h('p', {}, 'Your seats stay held while you confirm.'),
    h('iframe', { src, title: 'Your bank', style: 'width:100%;min-height:280px;border:0' }),
  );
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** Follows the checkout until the payment is decided; answers the order or throws the reason as the API would. */
export async function awaitPaymentOutcome(api: PageApi, eventId: string, action: PaymentAction): Promise<ConfirmedOrder> {
  const dialog = challengeDialog(action);
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const view = await checkoutView(api, eventId);
      if (view.state === 'paying') continue;
      if (view.state === 'confirmed' && view.order) return view.order;
      if (view.state === 'held') {
        throw new ApiError(402, 'PAYMENT_DECLINED', 'the card was declined', { declineCode: view.lastDecline ?? 'authentication_failed' });
      }
      if (view.state === 'refund_pending' || view.state === 'refunded') {
        throw new ApiError(409, 'ORDER_NOT_CONFIRMED', 'Your seats could not be confirmed, so your payment is being refunded in full.');
      }
      throw new ApiError(410, 'HOLD_EXPIRED', 'this hold has ended');
    }
  } finally {
    dialog?.close();
    dialog?.remove();
  }
}

/** The purchase, through authentication when the card asks for it. */
export async function purchaseWithAuthentication(api: PageApi, eventId: string, holdId: string, method: string): Promise<ConfirmedOrder> {
  const result = (await api.purchase(eventId, holdId, method)) as ConfirmedOrder | PaymentAction;
  if ('status' in result && result.status === 'requires_action') return awaitPaymentOutcome(api, eventId, result);
  return result as ConfirmedOrder;
}
