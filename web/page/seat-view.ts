/**
 * The live seat map as the buyer sees it: the canvas with its tooltip, zoom
 * tools and legend, the seat list beside it for keyboards and screen readers,
 * and the stream of seat changes that keeps both current.
 */
import { formatMoney, h } from './format';
import { SeatList } from './seatlist';
import { SeatMap, STATE_NAMES, TIER_COLOURS, type SeatLayout } from './seatmap';
import { seatStreamUrl } from './seat-status';

/** [seatId, status, version], as the seat stream sends them. */
export type SeatChange = [string, string, number];

export class SeatView {
  readonly map: SeatMap;
  readonly list: SeatList;
  readonly shell: HTMLElement;
  private stream: EventSource | null = null;

  constructor(seats: (SeatLayout & { status: string })[], onPick: (index: number) => void) {
    const canvas = h('canvas', {
      class: 'seatmap',
      tabindex: 0,
      role: 'application',
      'aria-roledescription': 'seat map',
      'aria-label': 'Seat map. Arrow keys move between seats, Page Up and Page Down between sections, Enter picks a seat.',
      'aria-describedby': 'seat-cursor',
    });
    const cursorText = h('p', { id: 'seat-cursor', class: 'visually-hidden', 'aria-live': 'polite' });
    const tip = h('div', { class: 'tip', hidden: true, 'aria-hidden': 'true' });
    const map = new SeatMap(canvas, seats);
    this.map = map;
    const name = (id: string) => `Section ${id}`;
    map.onCursor = (i) => (cursorText.textContent = map.describe(i, name));
    map.onHover = (i, x, y) => {
      if (i < 0) return void (tip.hidden = true);
      tip.textContent = map.describe(i, name);
      tip.style.left = `${Math.round(x + 12)}px`;
      tip.style.top = `${Math.round(y + 12)}px`;
      tip.hidden = false;
    };
    map.onPick = onPick;
    (window as unknown as { onsaleSeatMap: unknown }).onsaleSeatMap = {
      // For assistive tools and browser automation: where a seat is drawn.
      pointOf: (seatId: string) => {
        const i = map.index.get(seatId);
        if (i === undefined) return null;
        const r = canvas.getBoundingClientRect();
        const p = map.pointOf(i);
        return { x: r.left + p.x, y: r.top + p.y };
      },
      statusOf: (seatId: string) => {
        const i = map.index.get(seatId);
        return i === undefined ? null : STATE_NAMES[map.state[i]!];
      },
      showInList: (seatId: string) => this.list.showSeat(seatId),
      reveal: (seatId: string) => {
        const i = map.index.get(seatId);
        if (i !== undefined) map.reveal(i);
      },
    };
    const legend = h(
      'ul',
      { class: 'legend', 'aria-label': 'Legend' },
      ...map.tiers
        .slice(0, TIER_COLOURS.length)
        .map((p, i) => h('li', {}, h('span', { class: 'swatch', style: `background:${TIER_COLOURS[i]}` }), formatMoney(p))),
      h('li', {}, h('span', { class: 'swatch swatch-selected' }), 'Selected'),
      h('li', {}, h('span', { class: 'swatch swatch-mine' }), 'Held for you'),
      h('li', {}, h('span', { class: 'swatch swatch-held' }), 'Held'),
      h('li', {}, h('span', { class: 'swatch swatch-sold' }), 'Sold'),
    );
    const tools = h(
      'div',
      { class: 'map-tools', role: 'group', 'aria-label': 'Zoom' },
      h('button', { type: 'button', onclick: () => map.zoom(1.4), 'aria-label': 'Zoom in' }, '+'),
      h('button', { type: 'button', onclick: () => map.zoom(1 / 1.4), 'aria-label': 'Zoom out' }, '−'),
      h('button', { type: 'button', onclick: () => map.fit() }, 'Fit'),
    );
    this.list = new SeatList(seats, map, name, onPick);
    this.shell = h(
      'section',
      { class: 'map-shell', 'aria-label': 'Seat map' },
      h('div', { class: 'map-frame' }, canvas, tip, tools),
      cursorText,
      legend,
      this.list.element,
    );
  }

  /**
   * Follows the event's seat stream from a version the page has (only later changes arrive);
   * when the server cannot resume from there it sends a snapshot of every seat that is not available.
   */
  openStream(eventId: string, fromVersion: number | undefined, onChanges: (seats: SeatChange[], fromSnapshot: boolean) => void): void {
    const stream = new EventSource(seatStreamUrl(eventId, fromVersion));
    this.stream = stream;
    stream.addEventListener('snapshot', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { seats: SeatChange[] };
      onChanges(data.seats, true);
      document.body.dataset.live = 'true';
    });
    stream.addEventListener('changes', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { changes: SeatChange[] };
      onChanges(data.changes, false);
    });
    stream.addEventListener('error', () => {
      // EventSource reconnects by itself with Last-Event-ID.
      document.body.dataset.live = 'false';
    });
    stream.addEventListener('open', () => (document.body.dataset.live = 'true'));
  }

  closeStream(): void {
    this.stream?.close();
    this.stream = null;
  }

  /** Marks the seats held for this buyer ("held for you"), or none. */
  markMine(seatIds: string[]): void {
    this.map.mine.clear();
    for (const id of seatIds) {
      const i = this.map.index.get(id);
      if (i !== undefined) this.map.mine.add(i);
    }
    this.map.invalidate();
    this.list.refreshAll();
  }
}
