/**
 * A burst of buyers checking out through the real HTTP API, each behaving as
 * a well-made client: it retries what the API says to retry (503 with
 * Retry-After, a checkout still in progress, a dropped connection) with the
 * same hold, and stops at a final answer. Each buyer's journey is recorded so
 * a scenario can tell what was in flight when the fault hit and how it ended.
 */
import { sleep } from '../../harness/processes';

export type Outcome = 'confirmed' | 'declined' | 'expired' | 'gave_up' | 'no_seats';

export interface Journey {
  buyerId: string;
  token: string;
  holdId?: string;
  orderId?: string;
  outcome?: Outcome;
  /** Requests that failed transiently (503, connection error) and were retried. */
  retries: number;
  errors: string[];
  inFlightSince?: number;
  finishedAt?: number;
}

export interface ApiTarget {
  /** Where requests go; may change while the burst runs (an API restart on a new port). */
  url: () => string;
  adminToken: string;
}

async function request(target: ApiTarget, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(target.url() + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { raw: text.slice(0, 200) };
  }
  return { status: res.status, body: json, retryAfter: Number(res.headers.get('retry-after') ?? 0) };
}

/** Creates and opens an event (waiting room off) through the admin API. */
export async function createFaultEvent(target: ApiTarget, seats: number, holdSeconds = 180): Promise<string> {
  const created = await request(target, 'POST', '/v1/admin/events', target.adminToken, {
    name: 'Fault scenario',
    holdSeconds,
    maxSeatsPerBuyer: 4,
    waitingRoom: { enabled: false },
    sections: [{ id: 'A', name: 'Floor', rows: Math.ceil(seats / 20), seatsPerRow: 20, priceCents: 4200 }],
  });
  if (created.status !== 201) throw new Error(`creating the event failed: ${created.status} ${JSON.stringify(created.body)}`);
  const opened = await request(target, 'POST', `/v1/admin/events/${created.body.eventId}/open`, target.adminToken);
  if (opened.status !== 200) throw new Error(`opening the event failed: ${opened.status}`);
  return created.body.eventId as string;
}

export async function newBuyers(target: ApiTarget, n: number): Promise<Journey[]> {
  const out: Journey[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${target.url()}/v1/dev/buyers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Fault buyer ${i}` }),
    });
    if (r.status !== 201) throw new Error(`creating a buyer failed: ${r.status}`);
    const b = (await r.json()) as { buyerId: string; token: string };
    out.push({ ...b, retries: 0, errors: [] });
  }
  return out;
}

const TRANSIENT = new Set(['UNAVAILABLE', 'CHECKOUT_IN_PROGRESS', 'RATE_LIMITED', 'INTERNAL']);

/**
 * One request, retried while the answer is transient, until `deadline`.
 * Returns the final answer, or null when the deadline passed first.
 */
async function persist(j: Journey, target: ApiTarget, deadline: number, method: string, path: string, body?: unknown) {
  for (;;) {
    try {
      const r = await request(target, method, path, j.token, body);
      if (!(r.status >= 500 || TRANSIENT.has(r.body?.error?.code))) return r;
      j.errors.push(`${r.status} ${r.body?.error?.code ?? ''}`.trim());
      j.retries++;
      await sleep(Math.min(5, Math.max(1, r.retryAfter || 1)) * 1000);
    } catch (err) {
      j.errors.push(`network: ${(err as Error).cause ? String((err as Error & { cause: Error }).cause.message) : (err as Error).message}`);
      j.retries++;
      await sleep(500);
    }
    if (Date.now() > deadline) return null;
  }
}

/** Holds `quantity` seats (retrying transient failures). */
export async function hold(j: Journey, target: ApiTarget, eventId: string, deadline: number, quantity = 2): Promise<boolean> {
  const r = await persist(j, target, deadline, 'POST', `/v1/events/${eventId}/hold`, { quantity });
  if (!r) return false;
  if (r.status === 201) {
    j.holdId = r.body.holdId;
    return true;
  }
  // A hold placed before a dropped connection: the checkout already has it.
  if (r.body?.error?.code === 'CHECKOUT_IN_PROGRESS' && r.body.error.details?.holdId) {
    j.holdId = r.body.error.details.holdId;
    return true;
  }
  j.outcome = 'no_seats';
  j.errors.push(`hold: ${r.status} ${r.body?.error?.code}`);
  return false;
}

/** Pays for the hold: a declined card releases the hold, so the seats go back at once. */
export async function purchase(
  j: Journey,
  target: ApiTarget,
  eventId: string,
  deadline: number,
  paymentMethod = 'pm_card_visa',
): Promise<void> {
  j.inFlightSince = Date.now();
  const r = await persist(j, target, deadline, 'POST', `/v1/events/${eventId}/purchase`, { holdId: j.holdId, paymentMethod });
  j.finishedAt = Date.now();
  if (!r) {
    j.outcome = 'gave_up';
    return;
  }
  if (r.status === 200) {
    j.orderId = r.body.orderId;
    j.outcome = 'confirmed';
  } else if (r.body?.error?.code === 'PAYMENT_DECLINED') {
    j.outcome = 'declined';
    await persist(j, target, deadline, 'DELETE', `/v1/events/${eventId}/hold/${j.holdId}`);
  } else if (r.body?.error?.code === 'HOLD_EXPIRED' || r.body?.error?.code === 'ORDER_NOT_CONFIRMED') {
    j.outcome = 'expired';
  } else {
    j.outcome = 'gave_up';
    j.errors.push(`purchase: ${r.status} ${r.body?.error?.code}`);
  }
}

export function summarize(journeys: Journey[]): Record<Outcome | 'unfinished', number> {
  const s: Record<Outcome | 'unfinished', number> = { confirmed: 0, declined: 0, expired: 0, gave_up: 0, no_seats: 0, unfinished: 0 };
  for (const j of journeys) s[j.outcome ?? 'unfinished']++;
  return s;
}

/** Checks each confirmed order through the API as its buyer sees it. */
export async function ordersVisible(target: ApiTarget, journeys: Journey[]): Promise<number> {
  let visible = 0;
  for (const j of journeys.filter((x) => x.orderId)) {
    const r = await request(target, 'GET', `/v1/orders/${j.orderId}`, j.token);
    if (r.status === 200 && r.body.status === 'confirmed') visible++;
  }
  return visible;
}
