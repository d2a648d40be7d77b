/** The order is confirmed: what was bought, where the e-mail goes, and the checkout in the Temporal UI for support. */
import { config } from './config';
import { formatMoney, h } from './format';
import { focusHeading } from './ui';
import type { Visit } from './visit';

export function confirmationStage(v: Visit): void {
  const order = v.session.order!;
  v.clearTimers();
  v.seatView?.closeStream();
  const workflowId = `checkout:${v.eventId}:${v.session.buyerId ?? ''}`;
  const temporal = `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
  v.body.replaceChildren(
    h(
      'section',
      { class: 'panel narrow confirmation', 'aria-labelledby': 'confirmed-title', 'data-testid': 'confirmation' },
      h('h2', { id: 'confirmed-title' }, 'You’re going! Your order is confirmed'),
      h(
        'dl',
        { class: 'order' },
        h('div', {}, h('dt', {}, 'Order'), h('dd', { 'data-testid': 'order-id' }, order.orderId)),
        h('div', {}, h('dt', {}, 'Event'), h('dd', {}, v.event.name)),
        h('div', {}, h('dt', {}, 'Seats'), h('dd', { 'data-testid': 'order-seats' }, order.seatIds.join(', '))),
        h('div', {}, h('dt', {}, 'Total paid'), h('dd', {}, formatMoney(order.amountCents))),
      ),
      h('p', {}, v.session.email ? `A confirmation e-mail is on its way to ${v.session.email}.` : 'A confirmation e-mail is on its way.'),
      // Support links into the Temporal UI are a development aid; buyers in production never see them.
      config.mode === 'development'
        ? h(
            'p',
            { class: 'support' },
            'Need help? Quote your order number. Support staff: ',
            h(
              'a',
              { href: temporal, target: '_blank', rel: 'noopener', 'data-testid': 'temporal-link' },
              'this checkout in the Temporal UI',
            ),
            '.',
          )
        : h('p', { class: 'support' }, 'Need help? Quote your order number.'),
    ),
  );
  focusHeading(v.body);
}
