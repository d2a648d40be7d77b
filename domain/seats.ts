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

/**
 * The compact status encoding of `GET /seats/status`: two bits a seat in the
 * seat map's order (0 available, 1 held, 2 sold), four seats a byte, the first
 * seat in the high bits — the bit order of Redis BITFIELD's `u2 #i`.
 */
export const STATUS_ENCODING = '2bit-base64';

export const STATUS_CODE: Readonly<Record<SeatStatus, number>> = { available: 0, held: 1, sold: 2 };

const STATUS_OF_CODE: readonly SeatStatus[] = ['available', 'held', 'sold', 'available'];

/** Bytes that hold `count` seats' statuses. */
export const packedLength = (count: number) => Math.ceil(count / 4);

export function packStatuses(statuses: readonly SeatStatus[]): Uint8Array {
  const out = new Uint8Array(packedLength(statuses.length));
  statuses.forEach((s, i) => {
    out[i >> 2]! |= STATUS_CODE[s] << (6 - 2 * (i & 3));
  });
  return out;
}

/** The status of the i-th seat of the map; seats past the end read as available. */
export function statusAt(packed: Uint8Array, i: number): SeatStatus {
  const byte = packed[i >> 2] ?? 0;
  return STATUS_OF_CODE[(byte >> (6 - 2 * (i & 3))) & 3]!;
}

/** The seat map's layout (`GET /seatmap`): fixed for the life of a sale, the order the packed statuses follow. */
export interface SeatMapLayout {
  layoutVersion: string;
  seatCount: number;
  sections: { id: string; name: string; priceCents: number; rows: { row: number; numbers: number[] }[] }[];
}
