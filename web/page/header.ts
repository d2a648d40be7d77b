/** The event's name, sale status, live seat counts and who is signed in. */
import { formatNumber, formatTime, h } from './format';
import type { EventInfo, SeatCounts } from './visit';

export function eventHeader(e: EventInfo, counts: SeatCounts, buyerName: string | undefined): Node[] {
  const status: Record<string, string> = {
    on_sale: 'On sale',
    scheduled: `On sale ${formatTime(e.onSaleAt)}`,
    sold_out: 'Sold out',
    paused: 'Sale paused',
    closed: 'Sale closed',
    draft: 'Not on sale yet',
  };
  return [
    h('h1', { id: 'event-name' }, e.name),
    h(
      'p',
      { class: 'event-meta' },
      h('span', { class: `badge badge-${e.status}` }, status[e.status] ?? e.status),
      h(
        'span',
        { class: 'counts', 'aria-live': 'off', 'data-testid': 'counts' },
        `${formatNumber(counts.available)} available · ${formatNumber(counts.held)} held · ${formatNumber(counts.sold)} sold`,
      ),
      buyerName ? h('span', { class: 'who' }, `Signed in as ${buyerName}`) : null,
    ),
  ];
}
