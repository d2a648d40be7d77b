/** Where a buyer stands in an event's waiting room. */
export type QueueStatus = 'prequeue' | 'waiting' | 'admitted' | 'expired' | 'sold_out';

export const QUEUE_STATUSES: readonly QueueStatus[] = ['prequeue', 'waiting', 'admitted', 'expired', 'sold_out'];

/** What the admission controller publishes for the whole room (queue progress `status`). */
export type RoomStatus = 'open' | 'paused' | 'sold_out' | 'closed';
