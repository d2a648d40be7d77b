/**
 * Taking and giving back a hold's seats in Postgres, with the two Redis views
 * that follow it: the seat cache (what watchers see) and the claim gate. Used
 * by the API, which reserves a winning claim's seats before it starts the
 * checkout, and by the checkout's activities, which release, expire and (for
 * checkouts that began before that) reserve.
 *
 * Every call is idempotent by hold id: a reserve replayed answers the hold it
 * made; a release of a hold already ended changes nothing.
 */
import type { Pool } from 'pg';
import { releaseHold as releaseQuery, reserveSeats as reserveQuery } from '../db/queries/seats';
import type { HoldRequest, Reservation } from '../domain/checkout';
import type { SeatChange } from '../domain/seats';
import type { Logger } from '../platform/logger';
import type { SeatCache } from './seat-cache';
import type { SeatClaims } from './seat-claims';

export interface SeatHoldDeps {
  pool: Pool;
  seatCache: SeatCache;
  seatClaims: SeatClaims;
  logger: Logger;
  /** How long after the window the database keeps the seats for a payment under way. */
  graceSeconds: number;
}

export interface ReserveHoldInput {
  holdId: string;
  eventId: string;
  buyerId: string;
  checkoutId: string;
  request: HoldRequest;
  /** The waiting buyer has been answered by then: a reservation later than this must not commit. */
  deadlineMs?: number;
}

export class SeatHolds {
  constructor(private readonly deps: SeatHoldDeps) {}

  get graceSeconds(): number {
    return this.deps.graceSeconds;
  }

  /** The cache follows Postgres; a Redis outage must not fail a committed seat change. */
  async publish(eventId: string, changes: SeatChange[]): Promise<void> {
    try {
      await this.deps.seatCache.apply(eventId, changes);
    } catch (err) {
      this.deps.logger.warn({ err, eventId }, 'seat cache update failed; readers rebuild from Postgres');
      await this.deps.seatCache.invalidate(eventId).catch(() => undefined);
    }
  }

  /** The claim ends with the hold; a Redis outage leaves it to expire on its own. */
  private async dropClaim(eventId: string, holdId: string): Promise<void> {
    try {
      await this.deps.seatClaims.drop(eventId, holdId);
    } catch (err) {
      this.deps.logger.warn({ err, eventId }, 'claim gate not told of a release; the claim expires by itself');
    }
  }

  /**
   * One round trip to Postgres (reserve_hold), then the seat cache and the
   * claim gate learn the hold. Answers, besides the hold, the window left by
   * the database's own clock when it recorded the hold (windowLeftMs): a
   * duration, so whoever runs the window's timer needs no clock of the
   * database's. Refusals are DomainErrors (SEATS_UNAVAILABLE, LIMIT_EXCEEDED, …).
   */
  async reserve(input: ReserveHoldInput): Promise<Reservation & { windowLeftMs: number }> {
    const grace = this.deps.graceSeconds;
    const { hold, changes, dbNow } = await reserveQuery(this.deps.pool, {
      ...input,
      graceSeconds: grace,
      ...(input.deadlineMs !== undefined && { deadline: new Date(input.deadlineMs) }),
    });
    const dbLeftMs = Date.parse(hold.dbExpiresAt) - dbNow.getTime();
    await Promise.all([
      this.publish(input.eventId, changes),
      // The gate learns holds it did not claim (made while it was being rebuilt), and a claim's end
      // becomes the database's.
      this.deps.seatClaims
        .record(input.eventId, hold.holdId, hold.seatIds, dbLeftMs)
        .catch((err: unknown) => this.deps.logger.warn({ err, eventId: input.eventId }, 'claim gate not told of a hold')),
    ]);
    return { ...hold, windowLeftMs: Math.max(0, dbLeftMs - grace * 1000) };
  }

  /** Gives the hold's seats back (released by the buyer or the system, or expired). Answers how many changed. */
  async release(input: { eventId: string; holdId: string; outcome: 'released' | 'expired' }): Promise<number> {
    const changes = await releaseQuery(this.deps.pool, input.holdId, input.outcome);
    await this.publish(input.eventId, changes);
    await this.dropClaim(input.eventId, input.holdId);
    return changes.length;
  }
}
