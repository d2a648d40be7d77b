/**
 * One event's page for one buyer: loads the event, keeps the header and the
 * buyer's session, and moves the buyer between the stages of a purchase. Each
 * stage draws itself from its own module; this class only sequences them and
 * holds what they share (see Visit).
 */
import { ApiError, PageApi } from './api';
import { closedStage } from './closed';
import { confirmationStage } from './confirmation';
import { h } from './format';
import { eventHeader } from './header';
import { HoldStage } from './hold';
import { queueStage } from './queue';
import type { SeatView } from './seat-view';
import { SeatsStage } from './seats';
import { loadSession, saveSession, type HoldInfo, type Session } from './session';
import { signInStage } from './sign-in';
import { soldOutStage } from './sold-out';
import { announce, errorMessage, show } from './ui';
import type { EventInfo, SeatCounts, Visit } from './visit';
import { config } from './config';
import { listenForHandover, signedIn, takeFragmentToken } from './handover';

export class EventPage implements Visit {
  readonly api = new PageApi();
  readonly session: Session;
  event!: EventInfo;
  seatView: SeatView | null = null;
  readonly body = h('div', { class: 'event-body' });
  readonly sidebar = h('aside', { class: 'sidebar', 'aria-label': 'Your tickets' });
  private readonly header = h('section', { class: 'event-head', 'aria-labelledby': 'event-name' });
  private timers: number[] = [];
  private readonly seats = new SeatsStage(this);
  private readonly hold = new HoldStage(this);

  constructor(readonly eventId: string) {
    this.session = loadSession(eventId);
    // In production the host site hands over its signed-in buyer (web/page/handover.ts).
    if (config.mode === 'production') {
      const handed = takeFragmentToken();
      if (handed) {
        signedIn(this.session, handed);
        this.save();
      }
      listenForHandover((b) => {
        signedIn(this.session, b);
        this.api.token = b.token;
        this.save();
        // Before the event has loaded, start() routes once it has.
        if (this.event) {
          this.renderHeader();
          this.route();
        }
      });
    }
    this.api.token = this.session.token;
  }

  async start(): Promise<void> {
    try {
      this.event = await this.api.event(this.eventId);
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
    if (!this.session.token) return signInStage(this);
    this.route();
  }

  route(): void {
    const s = this.session;
    if (s.order) return this.toConfirmation();
    if (s.hold && Date.parse(s.hold.expiresAt) > Date.now()) return this.toSeats();
    if (s.hold) return this.toExpired(s.hold);
    if (this.event.status === 'sold_out') return this.toSoldOut();
    if (this.event.status === 'closed' || this.event.status === 'draft') return closedStage(this);
    if (this.event.waitingRoom.enabled && !s.admissionToken) return this.toQueue();
    this.toSeats();
  }

  toQueue(): void {
    void queueStage(this);
  }

  /** The seat map; with a hold in the session, the hold and payment beside it. */
  toSeats(): void {
    void this.seats.show();
  }

  toHold(hold: HoldInfo): void {
    this.hold.show(hold);
  }

  toExpired(hold: HoldInfo): void {
    this.hold.expired(hold);
  }

  toConfirmation(): void {
    confirmationStage(this);
  }

  toSoldOut(): void {
    soldOutStage(this);
  }

  save(): void {
    saveSession(this.eventId, this.session);
  }

  renderHeader(counts = this.event.counts): void {
    this.header.replaceChildren(...eventHeader(this.event, counts, this.session.name));
  }

  every(ms: number, fn: () => void): void {
    this.timers.push(window.setInterval(fn, ms));
  }

  after(ms: number, fn: () => void): void {
    this.timers.push(window.setTimeout(fn, ms));
  }

  clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  notice(text: string, kind: 'info' | 'warning' | 'error' = 'info'): void {
    const box = this.sidebar.querySelector<HTMLElement>('.notice');
    if (box) {
      box.textContent = text;
      box.className = `notice notice-${kind}`;
      box.hidden = false;
    }
    announce(text, kind !== 'info');
  }

  showCounts(counts: SeatCounts): void {
    this.renderHeader(counts);
    const soldOut = counts.available === 0 && counts.held === 0;
    if (soldOut && !this.session.hold && !this.session.order) {
      this.event = { ...this.event, status: 'sold_out' };
      this.renderHeader(counts);
      this.toSoldOut();
    }
  }
}
