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
 * crowd polling one event costs Postgres one query per second per replica.
 */
export class EventsView {
  private readonly cache = new Map<string, { at: number; event: EventRow | null }>();

  constructor(
    private readonly pool: Pool,
    private readonly seatCache: SeatCache,
    private readonly ttlMs = 1000,
  ) {}

  async event(eventId: string): Promise<EventRow> {
    const hit = this.cache.get(eventId);
    const now = Date.now();
    let event: EventRow | null;
    if (hit && now - hit.at < this.ttlMs) {
      event = hit.event;
    } else {
      event = await findEvent(this.pool, eventId);
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(eventId, { at: now, event });
    }
    if (!event) throw new DomainError('NOT_FOUND', `event ${eventId} does not exist`, { eventId });
    return event;
  }

  forget(eventId: string): void {
    this.cache.delete(eventId);
  }

  counts(eventId: string): Promise<SeatCounts> {
    return this.seatCache.counts(eventId);
  }

  seatMap(eventId: string) {
    return this.seatCache.seatMap(eventId);
  }
}
