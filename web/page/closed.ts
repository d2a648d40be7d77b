/** An event that is not selling: not on sale yet, or its sale has ended. */
import { formatTime, h } from './format';
import type { Visit } from './visit';

export function closedStage(v: Visit): void {
  v.body.replaceChildren(
    h(
      'section',
      { class: 'panel narrow' },
      h('h2', {}, v.event.status === 'closed' ? 'This sale has ended' : 'Not on sale yet'),
      h(
        'p',
        {},
        v.event.status === 'closed' ? 'Tickets for this event are no longer sold here.' : `Sales open ${formatTime(v.event.onSaleAt)}.`,
      ),
    ),
  );
}
