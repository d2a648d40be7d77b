/**
 * The seat map as a list, for keyboards and screen readers: choose a section
 * and a row, then toggle seats as buttons. Only one row is in the DOM at a
 * time, so it stays light with 50,000 seats, and it follows live changes.
 */
import { formatMoney, h } from './format';
import { STATE_NAMES, type SeatLayout, type SeatMap } from './seatmap';

export class SeatList {
  readonly element: HTMLElement;
  private readonly rows = new Map<string, Map<number, number[]>>();
  private readonly sectionSelect: HTMLSelectElement;
  private readonly rowSelect: HTMLSelectElement;
  private readonly seatsBox: HTMLElement;
  private readonly buttons = new Map<number, HTMLButtonElement>();

  constructor(
    seats: SeatLayout[],
    private readonly map: SeatMap,
    private readonly sectionName: (id: string) => string,
    private readonly onPick: (index: number) => void,
  ) {
    seats.forEach((s, i) => {
      let bySection = this.rows.get(s.section);
      if (!bySection) this.rows.set(s.section, (bySection = new Map()));
      let row = bySection.get(s.row);
      if (!row) bySection.set(s.row, (row = []));
      row.push(i);
    });
    for (const bySection of this.rows.values())
      for (const row of bySection.values()) row.sort((a, b) => seats[a]!.number - seats[b]!.number);
    this.sectionSelect = h(
      'select',
      { id: 'list-section' },
      ...[...this.rows.keys()].map((id) => h('option', { value: id }, sectionName(id))),
    );
    this.rowSelect = h('select', { id: 'list-row' });
    this.seatsBox = h('div', { class: 'seat-buttons', role: 'group', 'aria-label': 'Seats in this row' });
    this.sectionSelect.addEventListener('change', () => this.fillRows());
    this.rowSelect.addEventListener('change', () => this.fillSeats());
    this.element = h(
      'details',
      { class: 'seat-list' },
      h('summary', {}, 'Choose seats from a list'),
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'list-section' }, 'Section'),
        this.sectionSelect,
        h('label', { for: 'list-row' }, 'Row'),
        this.rowSelect,
      ),
      this.seatsBox,
    );
    this.fillRows();
  }

  /** Shows the row of a seat (used by automation and by "go to seat" links). */
  showSeat(seatId: string): void {
    const i = this.map.index.get(seatId);
    if (i === undefined) return;
    const s = this.map.seats[i]!;
    (this.element as HTMLDetailsElement).open = true;
    this.sectionSelect.value = s.section;
    this.fillRows();
    this.rowSelect.value = String(s.row);
    this.fillSeats();
  }

  private fillRows(): void {
    const rows = this.rows.get(this.sectionSelect.value) ?? new Map<number, number[]>();
    this.rowSelect.replaceChildren(...[...rows.keys()].sort((a, b) => a - b).map((r) => h('option', { value: r }, `Row ${r}`)));
    this.fillSeats();
  }

  private fillSeats(): void {
    const row = this.rows.get(this.sectionSelect.value)?.get(Number(this.rowSelect.value)) ?? [];
    this.buttons.clear();
    this.seatsBox.replaceChildren(
      ...row.map((i) => {
        const b = h('button', { type: 'button', class: 'seat', 'data-seat-id': this.map.seats[i]!.seatId });
        b.addEventListener('click', () => this.onPick(i));
        this.buttons.set(i, b);
        this.paint(i, b);
        return b;
      }),
    );
  }

  refreshAll(): void {
    for (const [i, b] of this.buttons) this.paint(i, b);
  }

  refresh(i: number): void {
    const b = this.buttons.get(i);
    if (b) this.paint(i, b);
  }

  private paint(i: number, b: HTMLButtonElement): void {
    const s = this.map.seats[i]!;
    const mine = this.map.mine.has(i);
    const selected = this.map.selected.has(i);
    const status = mine ? 'mine' : STATE_NAMES[this.map.state[i]!];
    b.textContent = String(s.number);
    b.dataset.status = status;
    b.setAttribute('aria-pressed', String(selected || mine));
    b.setAttribute(
      'aria-label',
      `Seat ${s.number}, row ${s.row}, ${this.sectionName(s.section)}, ${formatMoney(s.priceCents)}, ${
        mine ? 'held for you' : selected ? 'selected' : status === 'available' ? 'available' : `${status}, taken`
      }`,
    );
    b.setAttribute('aria-disabled', String(!selected && !mine && status !== 'available'));
  }
}
