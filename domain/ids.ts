/** Business keys. Workflow ids derive from them so each is a natural singleton. */

export const TASK_QUEUE_DEFAULT = 'onsale';

export function checkoutWorkflowId(eventId: string, buyerId: string): string {
  return `checkout:${eventId}:${buyerId}`;
}

export function admissionWorkflowId(eventId: string): string {
  return `admission:${eventId}`;
}

export function seatIdOf(section: string, row: number, number: number): string {
  return `${section}-${row}-${number}`;
}

const SEAT_ID = /^([A-Za-z0-9_]{1,16})-([1-9][0-9]{0,3})-([1-9][0-9]{0,3})$/;

export function parseSeatId(seatId: string): { section: string; row: number; number: number } | null {
  const m = SEAT_ID.exec(seatId);
  if (!m) return null;
  return { section: m[1]!, row: Number(m[2]), number: Number(m[3]) };
}

/** Ids of resources a client can name: a prefix and 20 url-safe characters. */
export const RESOURCE_ID = /^[a-z]{2,4}_[A-Za-z0-9_-]{8,40}$/;
