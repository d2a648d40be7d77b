/** Where a buyer stands in an event's waiting room. */
export type QueueStatus = 'prequeue' | 'waiting' | 'admitted' | 'expired' | 'sold_out';

export const QUEUE_STATUSES: readonly QueueStatus[] = ['prequeue', 'waiting', 'admitted', 'expired', 'sold_out'];

/** What the admission controller publishes for the whole room (queue progress `status`). */
export type RoomStatus = 'open' | 'paused' | 'sold_out' | 'closed';

/** Per-event limits of the waiting room's public paths (join, status), counted in fixed windows. */
export interface RoomLimits {
  rateWindowSeconds: number;
  /** Joins per window from one address (as the trusted proxy reports it). */
  joinLimitPerIp: number;
  joinLimitPerBuyer: number;
  /** GET /queue/me per window per buyer. */
  statusLimitPerBuyer: number;
  /** Queue places one address may hold in an event. */
  maxPlacesPerIp: number;
}

/**
 * Sized for shared addresses: a campus or a carrier-grade NAT puts thousands of
 * real buyers behind one address, so the per-address figures admit well over
 * 1,000 buyers per 10 s from one address; one identity is held to a few joins
 * and polls, and proof of work prices bulk identities. The migration that adds
 * the columns (0004) uses the same figures.
 */
export const ROOM_LIMIT_DEFAULTS: Readonly<RoomLimits> = {
  rateWindowSeconds: 10,
  joinLimitPerIp: 3000,
  joinLimitPerBuyer: 10,
  statusLimitPerBuyer: 20,
  maxPlacesPerIp: 10_000,
};
