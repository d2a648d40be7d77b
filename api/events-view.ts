import type { Pool } from 'pg';
import { findEvent, type EventRow } from '../db/queries/events';
import { DomainError } from '../domain/errors';
import type { SeatCache, SeatCounts } from '../services/seat-cache';

export type PublicStatus = 'draft' | 'scheduled' | 'on_sale' | 'paused' | 'sold_out' | 'closed';

export function publicStatus(e: EventRow, counts: SeatCounts, now = Date.now()): PublicStatus {
  if (e.state === 'draft' || e.state === 'paused' || e.state === 'closed') return e.state;
  if (e.onSaleAt.getTime() > now) return 'scheduled';
  return counts.available === 0 && counts.held === 0 ? 'sold_out' : 'on_sale';
}

/**
 * Event reads for the API. Event rows are cached in-process for a second, so a
 * crowd polling one event costs Postgres one query per second per replica:
 * when the row expires, the requests arriving while it is being read again
 * share that one read instead of each sending its own (a burst of them opened
 * new pool connections every second under load).
 */
export class EventsView {
  private readonly cache = new Map<string, { at: number; event: EventRow | null }>();
  private readonly reading = new Map<string, Promise<EventRow | null>>();

  constructor(
    private readonly pool: Pool,
    private readonly seatCache: SeatCache,
    private readonly ttlMs = 1000,
  ) {}

  /** The event from the cache alone, while fresh: undefined when it would have to be read. */
  known(eventId: string): EventRow | undefined {
    const hit = this.cache.get(eventId);
    return hit?.event && Date.now() - hit.at < this.ttlMs ? hit.event : undefined;
  }

  async event(eventId: string): Promise<EventRow> {
    const hit = this.cache.get(eventId);
    const event = hit && Date.now() - hit.at < this.ttlMs ? hit.event : await this.read(eventId);
    if (!event) throw new DomainError('NOT_FOUND', `event ${eventId} does not exist`, { eventId });
    return event;
  }

  private read(eventId: string): Promise<EventRow | null> {
    let p = this.reading.get(eventId);
    if (!p) {
      const at = Date.now();
      const read: Promise<EventRow | null> = findEvent(this.pool, eventId).then(
        (event) => {
          // Only the current read fills the cache: one that forget() superseded may predate the change.
          if (this.reading.get(eventId) === read) {
            this.reading.delete(eventId);
            if (this.cache.size > 10_000) this.cache.clear();
            this.cache.set(eventId, { at, event });
          }
          return event;
        },
        (err: unknown) => {
          if (this.reading.get(eventId) === read) this.reading.delete(eventId);
          throw err;
        },
      );
      this.reading.set(eventId, read);
      p = read;
    }
    return p;
  }

  forget(eventId: string): void {
    this.cache.delete(eventId);
    // A read already under way may predate the change: the next caller starts a new one.
    this.reading.delete(eventId);
  }

  counts(eventId: string): Promise<SeatCounts> {
    return this.seatCache.counts(eventId);
  }

  seatMap(eventId: string) {
    return this.seatCache.seatMap(eventId);
  }
}
