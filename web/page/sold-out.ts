/** Sold out: join the waitlist, then wait for an offer, which arrives as an admission to choose seats. */
import { formatNumber, formatTime, h } from './format';
import { announce, errorMessage, focusHeading } from './ui';
import type { Visit } from './visit';

export function soldOutStage(v: Visit): void {
  v.clearTimers();
  const s = v.session;
  const panel = h(
    'section',
    { class: 'panel narrow', 'aria-labelledby': 'soldout-title', 'data-testid': 'sold-out' },
    h('h2', { id: 'soldout-title' }, 'Sold out'),
    h(
      'p',
      {},
      'Every seat is taken right now. Seats come back when holds run out or orders are cancelled; join the waitlist and we will offer them to you in order.',
    ),
  );
  const status = h('p', { role: 'status' });
  if (s.waitlisted) {
    status.textContent = `You are number ${formatNumber(s.waitlisted.position)} on the waitlist for ${s.waitlisted.quantity} seat${s.waitlisted.quantity > 1 ? 's' : ''}. Keep this page open or watch your e-mail.`;
    panel.append(status);
    watchForOffer(v, panel);
  } else {
    const quantity = h(
      'select',
      { id: 'waitlist-quantity' },
      ...Array.from({ length: v.event.maxSeatsPerBuyer }, (_, k) => h('option', { value: k + 1 }, String(k + 1))),
    );
    const join = h('button', { type: 'submit', class: 'primary' }, 'Join the waitlist');
    panel.append(
      h(
        'form',
        {
          class: 'row',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            join.disabled = true;
            try {
              const r = await v.api.joinWaitlist(v.eventId, Number(quantity.value));
              v.session.waitlisted = { position: r.position, quantity: Number(quantity.value) };
              v.save();
              soldOutStage(v);
            } catch (err) {
              join.disabled = false;
              status.textContent = errorMessage(err);
            }
          },
        },
        h('label', { for: 'waitlist-quantity' }, 'Seats'),
        quantity,
        join,
      ),
      status,
    );
  }
  v.body.replaceChildren(panel);
}

/** A waitlist offer arrives as an admission: the buyer may pick seats until it lapses. */
function watchForOffer(v: Visit, panel: HTMLElement): void {
  const poll = async () => {
    try {
      const q = await v.api.queueMe(v.eventId);
      if (q.status === 'admitted' && q.admissionToken) {
        v.clearTimers();
        v.session.admissionToken = q.admissionToken;
        v.session.waitlisted = undefined;
        v.save();
        const until = typeof q.admissionExpiresAt === 'string' ? ` until ${formatTime(q.admissionExpiresAt)}` : '';
        const go = h('button', { type: 'button', class: 'primary' }, 'Choose seats now');
        go.addEventListener('click', () => v.toSeats());
        panel.replaceChildren(
          h('h2', { 'data-testid': 'waitlist-offer' }, 'Seats are available for you'),
          h('p', {}, `Seats came back on sale and you are next on the waitlist. This offer is yours${until}.`),
          go,
        );
        announce('Seats are available for you from the waitlist.', true);
        focusHeading(panel);
      }
    } catch {
      // keep waiting
    }
  };
  v.every(5000, () => void poll());
}
