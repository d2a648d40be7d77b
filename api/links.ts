/**
 * OpenAPI links (Link Objects) of the published contract: which answer
 * supplies the id another operation takes, so a client author reads the
 * journey from the description (create event → open → join → hold → purchase
 * → order → refund) and a fuzzer walks it with real ids instead of random
 * ones. Each link names its target by operationRef (a JSON pointer into
 * /openapi.json), so a renamed path is caught by test/api/openapi-statuses.test.ts,
 * which resolves every link against the served document.
 *
 * Answers to reads link only to reads. A read (a list above all) hands out
 * ids of events and orders the client did not create, and a client, or a
 * fuzzer, following a link to a change would act on someone else's sale. The
 * ids a change takes come from the answers of changes, back to the event the
 * client created. One exception: the queue status, which carries the
 * admission token a hold needs, and answers 200 only to a buyer in the queue.
 */

type Method = 'get' | 'post' | 'delete';

/** An OpenAPI 3.1 Link Object. */
export interface Link {
  operationRef: string;
  description?: string;
  parameters?: Record<string, string>;
  requestBody?: unknown;
}

/** The operationRef of `method path`, `path` as published (with {params}). */
export function operationRef(method: Method, path: string): string {
  return `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}`;
}

function link(method: Method, path: string, description: string, parameters: Record<string, string>, requestBody?: unknown): Link {
  return { operationRef: operationRef(method, path), description, parameters, ...(requestBody !== undefined && { requestBody }) };
}

/** Only the links to reads (GET): for the answers of reads. */
export function readsOnly(links: Record<string, Link>): Record<string, Link> {
  return Object.fromEntries(Object.entries(links).filter(([, l]) => l.operationRef.endsWith('/get')));
}

/** What anyone may read of an event, given where the answer carries its id. */
export function publicEventLinks(eventId: string): Record<string, Link> {
  const p = { eventId };
  return {
    GetEvent: link('get', '/v1/events/{eventId}', 'The event', p),
    GetSeats: link('get', '/v1/events/{eventId}/seats', 'Every seat with its status', p),
    GetSeatLayout: link('get', '/v1/events/{eventId}/seatmap', 'The layout', p),
    GetSeatStatuses: link('get', '/v1/events/{eventId}/seats/status', 'The packed seat statuses', p),
    StreamSeats: link('get', '/v1/events/{eventId}/seats/stream', 'Seat changes as they commit', p),
    GetQueueProgress: link('get', '/v1/events/{eventId}/queue/progress', "The waiting room's progress", p),
  };
}

/** What a buyer does with an event: the waiting room, a hold, the checkout, the waitlist. */
export function buyerEventLinks(eventId: string): Record<string, Link> {
  const p = { eventId };
  return {
    GetQueueChallenge: link('get', '/v1/events/{eventId}/queue/challenge', 'A proof-of-work challenge for joining', p),
    JoinQueue: link('post', '/v1/events/{eventId}/queue', 'Join the waiting room', p),
    GetQueueStatus: link('get', '/v1/events/{eventId}/queue/me', "The buyer's place", p),
    HoldSeats: link('post', '/v1/events/{eventId}/hold', 'Hold seats', p),
    GetCheckout: link('get', '/v1/events/{eventId}/checkout', "The buyer's checkout", p),
    JoinWaitlist: link('post', '/v1/events/{eventId}/waitlist', 'Join the waitlist', p),
  };
}

/** What the organiser does with an event. */
export function adminEventLinks(eventId: string): Record<string, Link> {
  const p = { eventId };
  return {
    GetAdminEvent: link('get', '/v1/admin/events/{eventId}', 'The event with counts and support links', p),
    GetEventStats: link('get', '/v1/admin/events/{eventId}/stats', 'Live figures', p),
    ListEventOrders: link('get', '/v1/admin/events/{eventId}/orders', "The event's orders", p),
    OpenEvent: link('post', '/v1/admin/events/{eventId}/open', 'Open the sale', p),
    PauseEvent: link('post', '/v1/admin/events/{eventId}/pause', 'Pause the sale', p),
    ResumeEvent: link('post', '/v1/admin/events/{eventId}/resume', 'Resume the sale', p),
    CloseEvent: link('post', '/v1/admin/events/{eventId}/close', 'Close the sale', p),
    SetWaitingRoomLimits: link('post', '/v1/admin/events/{eventId}/waiting-room', "Change the waiting room's limits", p),
  };
}

/** From an answer to a hold: release it, pay for it (with a test card that succeeds in development), see the checkout. */
export const holdLinks = (): Record<string, Link> => ({
  ReleaseHold: link('delete', '/v1/events/{eventId}/hold/{holdId}', 'Release the hold now', {
    eventId: '$request.path.eventId',
    holdId: '$response.body#/holdId',
  }),
  Purchase: link(
    'post',
    '/v1/events/{eventId}/purchase',
    'Pay for the held seats',
    { eventId: '$request.path.eventId' },
    {
      holdId: '$response.body#/holdId',
      paymentMethod: 'pm_card_visa',
    },
  ),
  GetCheckout: link('get', '/v1/events/{eventId}/checkout', "The buyer's checkout", { eventId: '$request.path.eventId' }),
});

/** From an answer that carries an order id: the order itself, and what support does with it. */
export const orderLinks = (orderId: string): Record<string, Link> => ({
  GetOrder: link('get', '/v1/orders/{orderId}', 'The order', { orderId }),
  RefundOrder: link('post', '/v1/admin/orders/{orderId}/refund', 'Refund the whole order', { orderId }),
  ResendConfirmation: link('post', '/v1/admin/orders/{orderId}/resend-confirmation', 'Send the confirmation again', { orderId }),
});

/** From the queue status: a hold with the admission token it carries once the buyer is admitted. */
export const admittedLinks = (): Record<string, Link> => ({
  HoldSeats: link('post', '/v1/events/{eventId}/hold', 'Hold seats with the admission token', {
    eventId: '$request.path.eventId',
    'header.x-admission-token': '$response.body#/admissionToken',
  }),
  GetQueueProgress: link('get', '/v1/events/{eventId}/queue/progress', "The waiting room's progress", {
    eventId: '$request.path.eventId',
  }),
});
