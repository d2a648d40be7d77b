/**
 * Seats as every layer speaks of them: the database writes them, the seat
 * cache mirrors them, streams carry their changes, the page draws them.
 */

export type SeatStatus = 'available' | 'held' | 'sold';

export const SEAT_STATUSES: readonly SeatStatus[] = ['available', 'held', 'sold'];

/** A committed change of one seat. Versions come from one database sequence, so the newer change always wins. */
export interface SeatChange {
  seatId: string;
  status: SeatStatus;
  version: number;
}

/** A change as it travels on the wire (streams, the change log): `[seatId, status, version]`. */
export type SeatChangeTuple = [seatId: string, status: SeatStatus, version: number];

/** One published batch of changes; `version` is the highest among them. */
export interface SeatChangeMessage {
  version: number;
  changes: SeatChangeTuple[];
}

/** A seat of the map with its current status. */
export interface Seat {
  seatId: string;
  section: string;
  row: number;
  number: number;
  priceCents: number;
  status: SeatStatus;
}

/** A seat as the source of truth stores it: with the version of its last change. */
export interface VersionedSeat extends Seat {
  version: number;
}
