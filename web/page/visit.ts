/**
 * What the stages of a purchase share, owned by EventPage: the buyer's
 * session, the event, the regions of the page, the live seat map once it is
 * loaded, and the moves from one stage to the next.
 */
import type { PageApi } from './api';
import type { SeatView } from './seat-view';
import type { HoldInfo, Session } from './session';

export type EventInfo = Awaited<ReturnType<PageApi['event']>>;
export type SeatCounts = EventInfo['counts'];

export interface Visit {
  readonly eventId: string;
  readonly api: PageApi;
  readonly session: Session;
  readonly event: EventInfo;
  /** Below the event header: where each stage draws. */
  readonly body: HTMLElement;
  /** Beside the seat map: the selection, then the hold and payment. */
  readonly sidebar: HTMLElement;
  /** The live seat map, once the seats stage has loaded it; the hold stage marks the buyer's seats on it. */
  seatView: SeatView | null;

  save(): void;
  renderHeader(counts?: SeatCounts): void;
  /** Repeats or delays work of the current stage; clearTimers() ends it when the buyer moves on. */
  every(ms: number, fn: () => void): void;
  after(ms: number, fn: () => void): void;
  clearTimers(): void;
  /** A message in the sidebar, announced to screen readers too. */
  notice(text: string, kind?: 'info' | 'warning' | 'error'): void;
  /** New seat counts from the live map: the header follows, and the event may have sold out. */
  showCounts(counts: SeatCounts): void;

  /** Decides what the buyer sees next from the session and the event. */
  route(): void;
  toQueue(): void;
  toSeats(): void;
  toHold(hold: HoldInfo): void;
  toExpired(hold: HoldInfo): void;
  toConfirmation(): void;
  toSoldOut(): void;
}
