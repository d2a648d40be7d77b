/**
 * Seats held for the buyer: the countdown, paying (test cards in development,
 * Stripe's Payment Element in production; a decline
 * keeps the hold so another card can be tried), releasing the seats, and the
 * hold running out.
 */
import { ApiError } from './api';
import { purchaseWithAuthentication } from './authentication';
import { cardEntry } from './card-entry';
import { clock, formatMoney, h } from './format';
import type { HoldInfo } from './session';
import { announce, errorMessage, focusHeading } from './ui';
import type { Visit } from './visit';

export class HoldStage {
  /** Ticks the hold's countdown; it ends with the hold (endHold), not when a stage clears its timers. */
  private countdown: number | null = null;

  constructor(private readonly v: Visit) {}

  /** The sidebar beside the map while seats are held: the seats, the time left, payment and release. */
  show(hold: HoldInfo): void {
    const v = this.v;
    const view = v.seatView!;
    const map = view.map;
    view.markMine(hold.seatIds);
    const remaining = h('strong', { class: 'countdown', 'data-testid': 'hold-countdown' }, '');
    const timerText = h('p', { class: 'timer', role: 'timer', 'aria-live': 'off' }, 'Time left to pay: ', remaining);
    const error = h('div', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'payment-error' });
    const pay = h('button', { type: 'submit', class: 'primary' }, `Pay ${formatMoney(hold.amountCents)}`);
    const cards = cardEntry(hold.amountCents);
    const release = h('button', { type: 'button', class: 'secondary' }, 'Release seats');
    release.addEventListener('click', async () => {
      release.disabled = true;
      try {
        await v.api.release(v.eventId, hold.holdId);
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 'HOLD_EXPIRED' || err.code === 'HOLD_NOT_FOUND'))) {
          release.disabled = false;
          error.textContent = errorMessage(err);
          error.hidden = false;
          return;
        }
      }
      this.endHold();
      announce('Your seats were released.');
      v.route();
    });
    v.sidebar.replaceChildren(
      h('h2', {}, 'Your seats are held'),
      h('p', { class: 'notice', role: 'status', hidden: true }),
      timerText,
      h(
        'ul',
        { class: 'chosen', 'aria-label': 'Held seats', 'data-testid': 'held-seats' },
        ...hold.seatIds.map((id) => {
          const s = map.seats[map.index.get(id) ?? -1];
          return h(
            'li',
            {},
            h('span', {}, s ? `${id} · row ${s.row}, seat ${s.number}` : id),
            h('span', {}, s ? formatMoney(s.priceCents) : ''),
          );
        }),
      ),
      h('p', { class: 'total' }, 'Total ', h('strong', {}, formatMoney(hold.amountCents))),
      h(
        'form',
        {
          class: 'stack',
          'aria-label': 'Payment',
          onsubmit: (e: Event) => {
            e.preventDefault();
            cards.paymentMethod().then(
              (method) => this.pay(hold, method, pay, error),
              (err: unknown) => {
                error.textContent = errorMessage(err);
                error.hidden = false;
              },
            );
          },
        },
        cards.element,
        error,
        pay,
      ),
      release,
    );
    const tick = () => {
      const left = (Date.parse(hold.expiresAt) - Date.now()) / 1000;
      remaining.textContent = clock(left);
      timerText.classList.toggle('urgent', left <= 60);
      if (Math.ceil(left) === 60) announce('One minute left to pay for your seats.', true);
      if (left <= 0) {
        this.expired(hold);
      }
    };
    tick();
    if (this.countdown) clearInterval(this.countdown);
    this.countdown = window.setInterval(tick, 250);
    focusHeading(v.sidebar);
  }

  /** The hold ran out: the seats went back on sale and nothing was charged. */
  expired(hold: HoldInfo): void {
    const v = this.v;
    this.endHold();
    v.clearTimers();
    const again = h('button', { type: 'button', class: 'primary' }, 'Choose seats again');
    again.addEventListener('click', () => {
      if (v.event.waitingRoom.enabled) v.session.queued = false;
      v.save();
      v.route();
    });
    const panel = h(
      'section',
      { class: 'panel narrow', 'aria-labelledby': 'expired-title', 'data-testid': 'hold-expired' },
      h('h2', { id: 'expired-title' }, 'Your hold has expired'),
      h('p', {}, `The time to pay for ${hold.seatIds.join(', ')} ran out, so the seats went back on sale. You have not been charged.`),
      again,
    );
    if (v.seatView && v.body.contains(v.seatView.shell)) v.sidebar.replaceChildren(...Array.from(panel.childNodes));
    else v.body.replaceChildren(panel);
    announce('Your hold has expired and the seats went back on sale.', true);
    focusHeading(v.body);
  }

  private endHold(): void {
    if (this.countdown) clearInterval(this.countdown);
    this.countdown = null;
    this.v.session.hold = undefined;
    this.v.save();
    this.v.seatView?.markMine([]);
  }

  private async pay(hold: HoldInfo, method: string, button: HTMLButtonElement, error: HTMLElement): Promise<void> {
    const v = this.v;
    button.disabled = true;
    button.textContent = 'Paying…';
    error.hidden = true;
    try {
      const order = await purchaseWithAuthentication(v.api, v.eventId, hold.holdId, method);
      this.endHold();
      v.session.order = { orderId: order.orderId, seatIds: order.seatIds, amountCents: order.amountCents };
      v.save();
      v.toConfirmation();
    } catch (err) {
      button.disabled = false;
      button.textContent = `Pay ${formatMoney(hold.amountCents)}`;
      if (err instanceof ApiError && err.code === 'PAYMENT_DECLINED') {
        const code = typeof err.details.declineCode === 'string' ? ` (${err.details.declineCode.replace(/_/g, ' ')})` : '';
        error.textContent = `Your card was declined${code}. Your seats are still held — try another card.`;
      } else if (err instanceof ApiError && (err.code === 'HOLD_EXPIRED' || err.code === 'HOLD_NOT_FOUND')) {
        return this.expired(hold);
      } else {
        error.textContent = `${errorMessage(err)} Your seats are still held; you can try again.`;
      }
      error.hidden = false;
      announce(error.textContent, true);
    }
  }
}
