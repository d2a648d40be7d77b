/**
 * The buyer's page for one event: sign in (development buyers), the waiting
 * room, the live seat map, the hold with its countdown, payment with a test
 * card, and the confirmation; plus sold out, expired hold and waitlist offer.
 */
import { ApiError, PageApi, type QueueView } from './api';
import { purchaseWithAuthentication } from './authentication';
import { clock, formatDuration, formatMoney, formatNumber, formatTime, h } from './format';
import { SeatList } from './seatlist';
import { SeatMap, STATE_NAMES, TIER_COLOURS, type SeatLayout } from './seatmap';
import { loadSession, saveSession, type HoldInfo, type Session } from './session';

interface PageConfig {
  eventId: string | null;
  mode: 'development' | 'production';
  temporalUiUrl: string;
  temporalNamespace: string;
}

type EventInfo = Awaited<ReturnType<PageApi['event']>>;

const config = JSON.parse(document.getElementById('onsale-config')!.textContent ?? '{}') as PageConfig;
const main = document.getElementById('main')!;
const api = new PageApi();

const TEST_CARDS = [
  { id: 'pm_card_visa', label: 'Visa ending 4242', hint: 'approved' },
  { id: 'pm_card_mastercard', label: 'Mastercard ending 4444', hint: 'approved' },
  { id: 'pm_card_chargeDeclined', label: 'Visa ending 0002', hint: 'always declined' },
];

/** Polite updates for screen readers; alerts interrupt. */
function announce(text: string, urgent = false): void {
  const region = document.getElementById(urgent ? 'alerter' : 'announcer')!;
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 30);
}

function show(...nodes: Node[]): void {
  main.replaceChildren(...nodes);
}

function focusHeading(root: ParentNode = main): void {
  const heading = root.querySelector<HTMLElement>('h1, h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: false });
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return 'Something went wrong on our side. Please try again.';
}

/** Finds a nonce such that sha256(challenge ":" nonce) starts with `difficulty` zero bits. */
async function solveProofOfWork(challenge: string, difficulty: number): Promise<string> {
  const enc = new TextEncoder();
  const zeros = (d: Uint8Array) => {
    let bits = 0;
    for (const byte of d) {
      if (byte === 0) {
        bits += 8;
        continue;
      }
      bits += Math.clz32(byte) - 24;
      break;
    }
    return bits;
  };
  for (let n = 0; ; n++) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(`${challenge}:${n}`)));
    if (zeros(digest) >= difficulty) return String(n);
  }
}

// ------------------------------------------------------------------ landing --

function landing(): void {
  const input = h('input', { id: 'event-id', name: 'event', required: true, autocomplete: 'off', placeholder: 'evt_…' });
  show(
    h(
      'section',
      { class: 'panel narrow' },
      h('h1', {}, 'Find your event'),
      h('p', {}, 'Open the link from the event announcement, or enter its event id.'),
      h(
        'form',
        {
          class: 'stack',
          onsubmit: (e: Event) => {
            e.preventDefault();
            const id = input.value.trim().replace(/^.*\/events\//, '');
            location.href = `/events/${encodeURIComponent(id)}`;
          },
        },
        h('label', { for: 'event-id' }, 'Event id or link'),
        input,
        h('button', { type: 'submit', class: 'primary' }, 'Go to the event'),
      ),
      h('p', { class: 'muted' }, 'Developers: see the ', h('a', { href: '/docs' }, 'API reference'), '.'),
    ),
  );
}

// ------------------------------------------------------------------- event --

class EventPage {
  /** Seats of a hold request still awaiting its answer. */
  private holdInFlight = new Set<string>();
  private session: Session;
  private event!: EventInfo;
  private map: SeatMap | null = null;
  private list: SeatList | null = null;
  private stream: EventSource | null = null;
  private timers: number[] = [];
  private countdown: number | null = null;
  private readonly header = h('section', { class: 'event-head', 'aria-labelledby': 'event-name' });
  private readonly body = h('div', { class: 'event-body' });
  private sidebar = h('aside', { class: 'sidebar', 'aria-label': 'Your tickets' });
  private mapShell: HTMLElement | null = null;
  private sectionNames = new Map<string, string>();

  constructor(private readonly eventId: string) {
    this.session = loadSession(eventId);
    api.token = this.session.token;
  }

  private save(): void {
    saveSession(this.eventId, this.session);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  async start(): Promise<void> {
    try {
      this.event = await api.event(this.eventId);
    } catch (err) {
      show(
        h(
          'section',
          { class: 'panel narrow' },
          h('h1', {}, err instanceof ApiError && err.status === 404 ? 'Event not found' : 'The event could not be loaded'),
          h('p', {}, errorMessage(err)),
          h('p', {}, h('a', { href: '/' }, 'Find another event')),
        ),
      );
      return;
    }
    document.title = `${this.event.name} — onsale`;
    this.renderHeader();
    show(this.header, this.body);
    if (!this.session.token) return this.signIn();
    this.route();
  }

  private renderHeader(counts = this.event.counts): void {
    const e = this.event;
    const status: Record<string, string> = {
      on_sale: 'On sale',
      scheduled: `On sale ${formatTime(e.onSaleAt)}`,
      sold_out: 'Sold out',
      paused: 'Sale paused',
      closed: 'Sale closed',
      draft: 'Not on sale yet',
    };
    this.header.replaceChildren(
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
        this.session.name ? h('span', { class: 'who' }, `Signed in as ${this.session.name}`) : null,
      ),
    );
  }

  /** Decides what the buyer sees next from the session and the event. */
  private route(): void {
    const s = this.session;
    if (s.order) return this.confirmed();
    if (s.hold && Date.parse(s.hold.expiresAt) > Date.now()) return void this.shop();
    if (s.hold) return this.expired(s.hold);
    if (this.event.status === 'sold_out') return this.soldOut();
    if (this.event.status === 'closed' || this.event.status === 'draft') return this.notOnSale();
    if (this.event.waitingRoom.enabled && !s.admissionToken) return void this.waitingRoom();
    void this.shop();
  }

  // ---------------------------------------------------------------- sign in --

  private signIn(): void {
    if (config.mode !== 'development') {
      this.body.replaceChildren(
        h(
          'section',
          { class: 'panel narrow' },
          h('h2', {}, 'Sign in to buy tickets'),
          h('p', {}, 'Sign in with your ticketing account, then come back to this page.'),
        ),
      );
      return;
    }
    const name = h('input', { id: 'buyer-name', name: 'name', autocomplete: 'name', required: true, maxlength: 100 });
    const email = h('input', { id: 'buyer-email', name: 'email', type: 'email', autocomplete: 'email', maxlength: 200 });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Continue');
    this.body.replaceChildren(
      h(
        'section',
        { class: 'panel narrow' },
        h('h2', {}, 'Who is buying?'),
        h('p', { class: 'muted' }, 'Tickets and the confirmation e-mail go to this name and address.'),
        h(
          'form',
          {
            class: 'stack',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              submit.disabled = true;
              error.hidden = true;
              try {
                const buyer = await api.createDevBuyer(name.value.trim(), email.value.trim() || undefined);
                this.session.token = buyer.token;
                this.session.buyerId = buyer.buyerId;
                this.session.name = name.value.trim();
                this.session.email = email.value.trim() || undefined;
                api.token = buyer.token;
                this.save();
                this.renderHeader();
                this.route();
              } catch (err) {
                error.textContent = errorMessage(err);
                error.hidden = false;
                submit.disabled = false;
              }
            },
          },
          h('label', { for: 'buyer-name' }, 'Name'),
          name,
          h('label', { for: 'buyer-email' }, 'E-mail ', h('span', { class: 'muted' }, '(optional)')),
          email,
          error,
          submit,
        ),
      ),
    );
    focusHeading(this.body);
  }

  // ------------------------------------------------------------ waiting room --

  private async waitingRoom(): Promise<void> {
    this.clearTimers();
    const position = h('strong', { 'data-testid': 'queue-position' }, '…');
    const ahead = h('strong', { 'data-testid': 'queue-ahead' }, '…');
    const wait = h('strong', { 'data-testid': 'queue-wait' }, '…');
    const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Progress through the line' });
    const status = h('p', { class: 'queue-status', role: 'status' }, 'Joining the line…');
    const panel = h(
      'section',
      { class: 'panel narrow queue', 'aria-labelledby': 'queue-title' },
      h('h2', { id: 'queue-title' }, 'You are in line'),
      h('p', {}, 'Keep this page open. When it is your turn you go straight to seat selection — no need to refresh.'),
      h(
        'dl',
        { class: 'queue-figures' },
        h('div', {}, h('dt', {}, 'Your place'), h('dd', {}, position)),
        h('div', {}, h('dt', {}, 'People ahead of you'), h('dd', {}, ahead)),
        h('div', {}, h('dt', {}, 'Estimated wait'), h('dd', {}, wait)),
      ),
      bar,
      status,
    );
    this.body.replaceChildren(panel);
    focusHeading(this.body);
    try {
      if (!this.session.queued) {
        try {
          await api.joinQueue(this.eventId);
        } catch (err) {
          if (!(err instanceof ApiError && err.details.reason === 'proof_of_work')) throw err;
          // Bots pay for places in line; a person's browser solves this in a moment.
          status.textContent = 'Checking your browser before you join the line…';
          const challenge = String(err.details.challenge);
          const nonce = await solveProofOfWork(challenge, Number(err.details.difficulty));
          await api.joinQueue(this.eventId, { pow: { challenge, nonce } });
        }
        this.session.queued = true;
        this.save();
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 'SOLD_OUT') return this.soldOut();
      status.textContent = errorMessage(err);
      this.retryLater(() => void this.waitingRoom(), err);
      return;
    }
    let lastAnnounced = Infinity;
    const poll = async () => {
      let q: QueueView;
      try {
        q = await api.queueMe(this.eventId);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          this.session.queued = false;
          this.save();
          return void this.waitingRoom();
        }
        status.textContent = `${errorMessage(err)} Still trying…`;
        return;
      }
      position.textContent = `#${formatNumber(q.position)}`;
      ahead.textContent = formatNumber(q.ahead);
      wait.textContent =
        q.ahead <= 0 ? 'any moment' : q.estimatedWaitSeconds < 0 ? 'calculating…' : `about ${formatDuration(q.estimatedWaitSeconds)}`;
      bar.value = q.position > 0 ? Math.min(100, Math.round((100 * Math.min(q.servingPosition, q.position)) / q.position)) : 0;
      if (q.ahead < lastAnnounced / 2 || (q.ahead <= 10 && q.ahead !== lastAnnounced)) {
        announce(`${formatNumber(q.ahead)} people ahead of you.`);
        lastAnnounced = q.ahead;
      }
      if (q.status === 'prequeue') {
        status.textContent = `The sale opens ${formatTime(this.event.onSaleAt)}. Your place is saved.`;
      } else if (q.status === 'waiting') {
        status.textContent = 'Moving forward… you will be let in automatically.';
      } else if (q.status === 'admitted' && q.admissionToken) {
        this.clearTimers();
        this.session.admissionToken = q.admissionToken;
        this.save();
        announce('It is your turn. Choose your seats.', true);
        void this.shop();
      } else if (q.status === 'expired') {
        this.clearTimers();
        this.session.queued = false;
        this.save();
        status.textContent = 'Your turn passed while you were away.';
        panel.append(h('button', { class: 'primary', onclick: () => void this.waitingRoom() }, 'Join the line again'));
      } else if (q.status === 'sold_out') {
        this.clearTimers();
        this.soldOut();
      }
    };
    await poll();
    this.timers.push(window.setInterval(() => void poll(), 2000));
  }

  private retryLater(fn: () => void, err: unknown): void {
    const seconds = err instanceof ApiError && typeof err.details.retryAfterSeconds === 'number' ? err.details.retryAfterSeconds : 3;
    this.timers.push(window.setTimeout(fn, seconds * 1000));
  }

  // --------------------------------------------------------------- seat map --

  private async shop(): Promise<void> {
    this.clearTimers();
    if (!this.map) {
      this.body.replaceChildren(h('p', { class: 'loading', role: 'status' }, 'Loading the seat map…'));
      let seats: Awaited<ReturnType<PageApi['seats']>>;
      try {
        seats = await api.seats(this.eventId);
      } catch (err) {
        this.body.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorMessage(err)));
        return;
      }
      this.buildMap(seats.seats);
      for (const s of seats.seats) this.map!.apply(s.seatId, s.status, 0);
      this.openStream();
    }
    this.body.replaceChildren(this.mapShell!, this.sidebar);
    if (this.session.hold) this.holding(this.session.hold);
    else this.picking();
  }

  private buildMap(seats: (SeatLayout & { status: string })[]): void {
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
    for (const s of seats) if (!this.sectionNames.has(s.section)) this.sectionNames.set(s.section, s.section);
    const name = (id: string) => `Section ${id}`;
    map.onCursor = (i) => (cursorText.textContent = map.describe(i, name));
    map.onHover = (i, x, y) => {
      if (i < 0) return void (tip.hidden = true);
      tip.textContent = map.describe(i, name);
      tip.style.left = `${Math.round(x + 12)}px`;
      tip.style.top = `${Math.round(y + 12)}px`;
      tip.hidden = false;
    };
    map.onPick = (i) => this.pick(i);
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
      showInList: (seatId: string) => this.list?.showSeat(seatId),
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
    this.list = new SeatList(seats, map, name, (i) => this.pick(i));
    this.mapShell = h(
      'section',
      { class: 'map-shell', 'aria-label': 'Seat map' },
      h('div', { class: 'map-frame' }, canvas, tip, tools),
      cursorText,
      legend,
      this.list.element,
    );
  }

  private openStream(): void {
    const stream = new EventSource(`/v1/events/${encodeURIComponent(this.eventId)}/seats/stream`);
    this.stream = stream;
    const onChanges = (seats: [string, string, number][], fromSnapshot: boolean) => {
      const map = this.map!;
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
        this.list?.refresh(i);
      }
      if (taken.length) {
        this.notice(
          `${taken.length === 1 ? `Seat ${taken[0]} was` : `Seats ${taken.join(', ')} were`} just taken by another buyer and removed from your selection.`,
          'warning',
        );
        this.renderSelection();
      }
      this.onCounts();
    };
    stream.addEventListener('snapshot', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { seats: [string, string, number][] };
      onChanges(data.seats, true);
      document.body.dataset.live = 'true';
    });
    stream.addEventListener('changes', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { changes: [string, string, number][] };
      onChanges(data.changes, false);
    });
    stream.addEventListener('error', () => {
      // EventSource reconnects by itself with Last-Event-ID.
      document.body.dataset.live = 'false';
    });
    stream.addEventListener('open', () => (document.body.dataset.live = 'true'));
  }

  private onCounts(): void {
    const counts = this.map!.counts();
    this.renderHeader(counts);
    const soldOut = counts.available === 0 && counts.held === 0;
    if (soldOut && !this.session.hold && !this.session.order) {
      this.event = { ...this.event, status: 'sold_out' };
      this.renderHeader(counts);
      this.soldOut();
    }
  }

  private notice(text: string, kind: 'info' | 'warning' | 'error' = 'info'): void {
    const box = this.sidebar.querySelector<HTMLElement>('.notice');
    if (box) {
      box.textContent = text;
      box.className = `notice notice-${kind}`;
      box.hidden = false;
    }
    announce(text, kind !== 'info');
  }

  private pick(i: number): void {
    const map = this.map!;
    if (this.session.hold) {
      this.notice('You are holding seats. Pay for them or release them to choose different seats.');
      return;
    }
    const seat = map.seats[i]!;
    if (map.selected.has(i)) {
      map.selected.delete(i);
      announce(`Seat ${seat.seatId} removed from your selection.`);
    } else if (map.state[i] !== 0) {
      this.notice(`Seat ${seat.seatId} is ${STATE_NAMES[map.state[i]!]} — choose another seat.`, 'warning');
      return;
    } else if (map.selected.size >= this.event.maxSeatsPerBuyer) {
      this.notice(`You can buy up to ${this.event.maxSeatsPerBuyer} seats for this event.`, 'warning');
      return;
    } else {
      map.selected.add(i);
      announce(`Seat ${seat.seatId} selected, ${formatMoney(seat.priceCents)}.`);
    }
    map.invalidate();
    this.list?.refresh(i);
    this.renderSelection();
  }

  // --------------------------------------------------------------- picking --

  private selectionBox = h('div', { class: 'selection' });

  private picking(): void {
    const map = this.map!;
    const quantity = h(
      'select',
      { id: 'best-quantity', name: 'quantity' },
      ...Array.from({ length: this.event.maxSeatsPerBuyer }, (_, k) => h('option', { value: k + 1 }, String(k + 1))),
    );
    const sections = [...new Set(map.seats.map((s) => s.section))];
    const section = h(
      'select',
      { id: 'best-section', name: 'section' },
      h('option', { value: '' }, 'Any section'),
      ...sections.map((id) => h('option', { value: id }, `Section ${id}`)),
    );
    const bestButton = h('button', { type: 'submit' }, 'Find best seats');
    this.sidebar.replaceChildren(
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
    const map = this.map;
    if (!map || this.session.hold) return;
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

  private async placeHold(body: { seatIds: string[] } | { quantity: number; section?: string }, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    const label = button.textContent;
    button.textContent = 'Holding…';
    // The stream may report these seats held before our own answer arrives: that is us, not a rival.
    this.holdInFlight = new Set('seatIds' in body ? body.seatIds : []);
    try {
      const hold = await api.hold(this.eventId, body, this.session.admissionToken).finally(() => {
        this.holdInFlight = new Set();
      });
      this.session.hold = hold;
      this.session.admissionToken = undefined;
      this.save();
      this.map!.selected.clear();
      this.holding(hold);
      announce(`Seats ${hold.seatIds.join(', ')} are held for you.`, true);
    } catch (err) {
      button.disabled = false;
      button.textContent = label;
      this.holdFailed(err, body);
    }
  }

  private holdFailed(err: unknown, body: { seatIds: string[] } | { quantity: number; section?: string }): void {
    if (!(err instanceof ApiError)) return this.notice(errorMessage(err), 'error');
    switch (err.code) {
      case 'SEATS_UNAVAILABLE': {
        const ids = Array.isArray(err.details.seatIds) ? (err.details.seatIds as string[]) : [];
        const map = this.map!;
        for (const id of ids) {
          const i = map.index.get(id);
          if (i === undefined) continue;
          map.selected.delete(i);
          // The stream will confirm; until then the seat is shown as taken.
          if (map.state[i] === 0) map.apply(id, 'held', map.version[i]!);
          this.list?.refresh(i);
        }
        map.invalidate();
        this.renderSelection();
        this.notice(
          'seatIds' in body
            ? `Sorry — ${ids.length ? `seat ${ids.join(', ')}` : 'a seat you chose'} was just taken by another buyer. Please choose another seat.`
            : `There are not ${body.quantity} seats available together${'section' in body && body.section ? ` in section ${body.section}` : ''}. Try fewer seats or another section.`,
          'error',
        );
        return;
      }
      case 'NOT_ADMITTED':
        this.session.admissionToken = undefined;
        this.session.queued = false;
        this.save();
        this.notice('Your turn in line has ended. Joining the line again…', 'error');
        void this.waitingRoom();
        return;
      case 'CHECKOUT_IN_PROGRESS':
        return this.notice('You already hold seats for this event in another window. Finish or release them there first.', 'error');
      default:
        return this.notice(err.message, 'error');
    }
  }

  // --------------------------------------------------------------- holding --

  private holding(hold: HoldInfo): void {
    const map = this.map!;
    map.mine.clear();
    for (const id of hold.seatIds) {
      const i = map.index.get(id);
      if (i !== undefined) map.mine.add(i);
    }
    map.invalidate();
    this.list?.refreshAll();
    const remaining = h('strong', { class: 'countdown', 'data-testid': 'hold-countdown' }, '');
    const timerText = h('p', { class: 'timer', role: 'timer', 'aria-live': 'off' }, 'Time left to pay: ', remaining);
    const error = h('div', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'payment-error' });
    const pay = h('button', { type: 'submit', class: 'primary' }, `Pay ${formatMoney(hold.amountCents)}`);
    const cards = h(
      'fieldset',
      { class: 'cards' },
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
    const release = h('button', { type: 'button', class: 'secondary' }, 'Release seats');
    release.addEventListener('click', async () => {
      release.disabled = true;
      try {
        await api.release(this.eventId, hold.holdId);
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
      this.route();
    });
    this.sidebar.replaceChildren(
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
            const method = cards.querySelector<HTMLInputElement>('input:checked')?.value ?? 'pm_card_visa';
            void this.pay(hold, method, pay, error);
          },
        },
        cards,
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
    focusHeading(this.sidebar);
  }

  private endHold(): void {
    if (this.countdown) clearInterval(this.countdown);
    this.countdown = null;
    this.session.hold = undefined;
    this.save();
    if (this.map) {
      this.map.mine.clear();
      this.map.invalidate();
      this.list?.refreshAll();
    }
  }

  private async pay(hold: HoldInfo, method: string, button: HTMLButtonElement, error: HTMLElement): Promise<void> {
    button.disabled = true;
    button.textContent = 'Paying…';
    error.hidden = true;
    try {
      const order = await purchaseWithAuthentication(api, this.eventId, hold.holdId, method);
      this.endHold();
      this.session.order = { orderId: order.orderId, seatIds: order.seatIds, amountCents: order.amountCents };
      this.save();
      this.confirmed();
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

  private expired(hold: HoldInfo): void {
    this.endHold();
    this.clearTimers();
    const again = h('button', { type: 'button', class: 'primary' }, 'Choose seats again');
    again.addEventListener('click', () => {
      if (this.event.waitingRoom.enabled) this.session.queued = false;
      this.save();
      this.route();
    });
    const panel = h(
      'section',
      { class: 'panel narrow', 'aria-labelledby': 'expired-title', 'data-testid': 'hold-expired' },
      h('h2', { id: 'expired-title' }, 'Your hold has expired'),
      h('p', {}, `The time to pay for ${hold.seatIds.join(', ')} ran out, so the seats went back on sale. You have not been charged.`),
      again,
    );
    if (this.mapShell && this.body.contains(this.mapShell)) this.sidebar.replaceChildren(...Array.from(panel.childNodes));
    else this.body.replaceChildren(panel);
    announce('Your hold has expired and the seats went back on sale.', true);
    focusHeading(this.body);
  }

  // ------------------------------------------------------------ confirmation --

  private confirmed(): void {
    const order = this.session.order!;
    this.clearTimers();
    this.stream?.close();
    this.stream = null;
    const workflowId = `checkout:${this.eventId}:${this.session.buyerId ?? ''}`;
    const temporal = `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
    this.body.replaceChildren(
      h(
        'section',
        { class: 'panel narrow confirmation', 'aria-labelledby': 'confirmed-title', 'data-testid': 'confirmation' },
        h('h2', { id: 'confirmed-title' }, 'You’re going! Your order is confirmed'),
        h(
          'dl',
          { class: 'order' },
          h('div', {}, h('dt', {}, 'Order'), h('dd', { 'data-testid': 'order-id' }, order.orderId)),
          h('div', {}, h('dt', {}, 'Event'), h('dd', {}, this.event.name)),
          h('div', {}, h('dt', {}, 'Seats'), h('dd', { 'data-testid': 'order-seats' }, order.seatIds.join(', '))),
          h('div', {}, h('dt', {}, 'Total paid'), h('dd', {}, formatMoney(order.amountCents))),
        ),
        h(
          'p',
          {},
          this.session.email ? `A confirmation e-mail is on its way to ${this.session.email}.` : 'A confirmation e-mail is on its way.',
        ),
        h(
          'p',
          { class: 'support' },
          'Need help? Quote your order number. Support staff: ',
          h('a', { href: temporal, target: '_blank', rel: 'noopener', 'data-testid': 'temporal-link' }, 'this checkout in the Temporal UI'),
          '.',
        ),
      ),
    );
    focusHeading(this.body);
  }

  // ------------------------------------------------------ sold out, waitlist --

  private soldOut(): void {
    this.clearTimers();
    const s = this.session;
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
      this.watchForOffer(panel);
    } else {
      const quantity = h(
        'select',
        { id: 'waitlist-quantity' },
        ...Array.from({ length: this.event.maxSeatsPerBuyer }, (_, k) => h('option', { value: k + 1 }, String(k + 1))),
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
                const r = await api.joinWaitlist(this.eventId, Number(quantity.value));
                this.session.waitlisted = { position: r.position, quantity: Number(quantity.value) };
                this.save();
                this.soldOut();
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
    this.body.replaceChildren(panel);
  }

  /** A waitlist offer arrives as an admission: the buyer may pick seats until it lapses. */
  private watchForOffer(panel: HTMLElement): void {
    const poll = async () => {
      try {
        const q = await api.queueMe(this.eventId);
        if (q.status === 'admitted' && q.admissionToken) {
          this.clearTimers();
          this.session.admissionToken = q.admissionToken;
          this.session.waitlisted = undefined;
          this.save();
          const until = typeof q.admissionExpiresAt === 'string' ? ` until ${formatTime(q.admissionExpiresAt)}` : '';
          const go = h('button', { type: 'button', class: 'primary' }, 'Choose seats now');
          go.addEventListener('click', () => void this.shop());
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
    this.timers.push(window.setInterval(() => void poll(), 5000));
  }

  private notOnSale(): void {
    this.body.replaceChildren(
      h(
        'section',
        { class: 'panel narrow' },
        h('h2', {}, this.event.status === 'closed' ? 'This sale has ended' : 'Not on sale yet'),
        h(
          'p',
          {},
          this.event.status === 'closed'
            ? 'Tickets for this event are no longer sold here.'
            : `Sales open ${formatTime(this.event.onSaleAt)}.`,
        ),
      ),
    );
  }
}

if (config.eventId) void new EventPage(config.eventId).start();
else landing();
