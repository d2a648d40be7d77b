/**
 * Choosing seats: the live map and list, the buyer's selection (or "best
 * available"), and placing a hold, including what to say when another buyer
 * takes a seat first.
 */
import { ApiError, type PageApi } from './api';
import { loadSeats } from './seat-status';
import { formatMoney, h } from './format';
import { STATE_NAMES } from './seatmap';
import { SeatView, type SeatChange } from './seat-view';
import { announce, errorMessage } from './ui';
import type { Visit } from './visit';

type HoldBody = Parameters<PageApi['hold']>[1];

export class SeatsStage {
  /** Seats of a hold request still awaiting its answer. */
  private holdInFlight = new Set<string>();
  private readonly selectionBox = h('div', { class: 'selection' });

  constructor(private readonly v: Visit) {}

  /** Loads the map once, then shows it beside the selection, or beside the hold if there is one. */
  async show(): Promise<void> {
    const v = this.v;
    v.clearTimers();
    if (!v.seatView) {
      v.body.replaceChildren(h('p', { class: 'loading', role: 'status' }, 'Loading the seat map…'));
      let seats: Awaited<ReturnType<typeof loadSeats>>;
      try {
        seats = await loadSeats(v.eventId);
      } catch (err) {
        v.body.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorMessage(err)));
        return;
      }
      const view = new SeatView(seats.seats, (i) => this.pick(i));
      v.seatView = view;
      // Every status is as of the statuses' version: a replayed change older than it must not win.
      for (const s of seats.seats) view.map.apply(s.seatId, s.status, seats.version);
      view.openStream(v.eventId, seats.version, (changes, fromSnapshot) => this.onChanges(changes, fromSnapshot));
    }
    v.body.replaceChildren(v.seatView.shell, v.sidebar);
    if (v.session.hold) v.toHold(v.session.hold);
    else this.picking();
  }

  private onChanges(seats: SeatChange[], fromSnapshot: boolean): void {
    const { map, list } = this.v.seatView!;
    const taken: string[] = [];
    if (fromSnapshot) {
      const listed = new Set(seats.map((s) => s[0]));
      for (const s of map.seats) if (!listed.has(s.seatId)) map.apply(s.seatId, 'available', 0);
    }
    for (const [seatId, status, version] of seats) {
      if (!map.apply(seatId, status, version)) continue;
      const i = map.index.get(seatId)!;
      if (status !== 'available' && map.selected.has(i) && !this.holdInFlight.has(seatId)) {
        map.selected.delete(i);
        taken.push(seatId);
      }
      list.refresh(i);
    }
    if (taken.length) {
      this.v.notice(
        `${taken.length === 1 ? `Seat ${taken[0]} was` : `Seats ${taken.join(', ')} were`} just taken by another buyer and removed from your selection.`,
        'warning',
      );
      this.renderSelection();
    }
    this.v.showCounts(map.counts());
  }

  private pick(i: number): void {
    const v = this.v;
    const { map, list } = v.seatView!;
    if (v.session.hold) {
      v.notice('You are holding seats. Pay for them or release them to choose different seats.');
      return;
    }
    const seat = map.seats[i]!;
    if (map.selected.has(i)) {
      map.selected.delete(i);
      announce(`Seat ${seat.seatId} removed from your selection.`);
    } else if (map.state[i] !== 0) {
      v.notice(`Seat ${seat.seatId} is ${STATE_NAMES[map.state[i]!]} — choose another seat.`, 'warning');
      return;
    } else if (map.selected.size >= v.event.maxSeatsPerBuyer) {
      v.notice(`You can buy up to ${v.event.maxSeatsPerBuyer} seats for this event.`, 'warning');
      return;
    } else {
      map.selected.add(i);
      announce(`Seat ${seat.seatId} selected, ${formatMoney(seat.priceCents)}.`);
    }
    map.invalidate();
    list.refresh(i);
    this.renderSelection();
  }

  /** The sidebar while choosing: best available by quantity and section, or the seats picked on the map. */
  private picking(): void {
    const v = this.v;
    const { map } = v.seatView!;
    const quantity = h(
      'select',
      { id: 'best-quantity', name: 'quantity' },
      ...Array.from({ length: v.event.maxSeatsPerBuyer }, (_, k) => h('option', { value: k + 1 }, String(k + 1))),
    );
    const sections = [...new Set(map.seats.map((s) => s.section))];
    const section = h(
      'select',
      { id: 'best-section', name: 'section' },
      h('option', { value: '' }, 'Any section'),
      ...sections.map((id) => h('option', { value: id }, `Section ${id}`)),
    );
    const bestButton = h('button', { type: 'submit' }, 'Find best seats');
    v.sidebar.replaceChildren(
      h('h2', {}, 'Choose your seats'),
      h('p', { class: 'notice', role: 'status', hidden: true }),
      h(
        'form',
        {
          class: 'best',
          'aria-labelledby': 'best-title',
          onsubmit: (e: Event) => {
            e.preventDefault();
            void this.placeHold({ quantity: Number(quantity.value), ...(section.value ? { section: section.value } : {}) }, bestButton);
          },
        },
        h('h3', { id: 'best-title' }, 'Best available'),
        h(
          'div',
          { class: 'row' },
          h('label', { for: 'best-quantity' }, 'Seats'),
          quantity,
          h('label', { for: 'best-section' }, 'Where'),
          section,
        ),
        bestButton,
      ),
      h('h3', {}, 'Or pick on the map'),
      this.selectionBox,
    );
    this.renderSelection();
  }

  private renderSelection(): void {
    const map = this.v.seatView?.map;
    if (!map || this.v.session.hold) return;
    const chosen = [...map.selected].map((i) => map.seats[i]!);
    const total = chosen.reduce((a, s) => a + s.priceCents, 0);
    const button = h(
      'button',
      { type: 'button', class: 'primary', disabled: chosen.length === 0 },
      chosen.length ? `Hold ${chosen.length} seat${chosen.length > 1 ? 's' : ''} · ${formatMoney(total)}` : 'Hold seats',
    );
    button.addEventListener('click', () => void this.placeHold({ seatIds: chosen.map((s) => s.seatId) }, button));
    this.selectionBox.replaceChildren(
      chosen.length
        ? h(
            'ul',
            { class: 'chosen', 'aria-label': 'Selected seats' },
            ...chosen.map((s) =>
              h(
                'li',
                {},
                h('span', {}, `${s.seatId} · row ${s.row}, seat ${s.number}`),
                h('span', {}, formatMoney(s.priceCents)),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'link',
                    'aria-label': `Remove seat ${s.seatId}`,
                    onclick: () => this.pick(map.index.get(s.seatId)!),
                  },
                  'Remove',
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'Tap or click seats on the map, or use the seat list below it.'),
      button,
    );
  }

  private async placeHold(body: HoldBody, button: HTMLButtonElement): Promise<void> {
    const v = this.v;
    button.disabled = true;
    const label = button.textContent;
    button.textContent = 'Holding…';
    // The stream may report these seats held before our own answer arrives: that is us, not a rival.
    this.holdInFlight = new Set('seatIds' in body ? body.seatIds : []);
    try {
      const hold = await v.api.hold(v.eventId, body, v.session.admissionToken).finally(() => {
        this.holdInFlight = new Set();
      });
      v.session.hold = hold;
      v.session.admissionToken = undefined;
      v.save();
      v.seatView!.map.selected.clear();
      v.toHold(hold);
      announce(`Seats ${hold.seatIds.join(', ')} are held for you.`, true);
    } catch (err) {
      button.disabled = false;
      button.textContent = label;
      this.holdFailed(err, body);
    }
  }

  private holdFailed(err: unknown, body: HoldBody): void {
    const v = this.v;
    if (!(err instanceof ApiError)) return v.notice(errorMessage(err), 'error');
    switch (err.code) {
      case 'SEATS_UNAVAILABLE': {
        const ids = Array.isArray(err.details.seatIds) ? (err.details.seatIds as string[]) : [];
        const { map, list } = v.seatView!;
        for (const id of ids) {
          const i = map.index.get(id);
          if (i === undefined) continue;
          map.selected.delete(i);
          // The stream will confirm; until then the seat is shown as taken.
          if (map.state[i] === 0) map.apply(id, 'held', map.version[i]!);
          list.refresh(i);
        }
        map.invalidate();
        this.renderSelection();
        v.notice(
          'seatIds' in body
            ? `Sorry — ${ids.length ? `seat ${ids.join(', ')}` : 'a seat you chose'} was just taken by another buyer. Please choose another seat.`
            : `There are not ${body.quantity} seats available together${'section' in body && body.section ? ` in section ${body.section}` : ''}. Try fewer seats or another section.`,
          'error',
        );
        return;
      }
      case 'NOT_ADMITTED':
        v.session.admissionToken = undefined;
        v.session.queued = false;
        v.save();
        v.notice('Your turn in line has ended. Joining the line again…', 'error');
        v.toQueue();
        return;
      case 'CHECKOUT_IN_PROGRESS':
        return v.notice('You already hold seats for this event in another window. Finish or release them there first.', 'error');
      default:
        return v.notice(err.message, 'error');
    }
  }
}
