/** The page's calls to the API, through the typed client where the route is in the app's type. */
import { ApiError, createClient, unwrap } from '../../api/client';
import type { QueueStatus } from '../../domain/queue';

export type { QueueStatus };

export { ApiError };

export class PageApi {
  token: string | undefined;
  private readonly client = createClient(location.origin, { token: () => this.token });

  async createDevBuyer(name: string, email?: string) {
    return unwrap(await this.client.v1.dev.buyers.$post({ json: { name, ...(email ? { email } : {}) } }));
  }

  async event(eventId: string) {
    return unwrap(await this.client.v1.events[':eventId'].$get({ param: { eventId } }));
  }

  async seats(eventId: string) {
    return unwrap(await this.client.v1.events[':eventId'].seats.$get({ param: { eventId }, header: {} }));
  }

  async hold(eventId: string, body: { seatIds: string[] } | { quantity: number; section?: string }, admissionToken?: string) {
    const res = await this.client.v1.events[':eventId'].hold.$post({
      param: { eventId },
      json: body,
      header: admissionToken ? { 'x-admission-token': admissionToken } : {},
    });
    return unwrap(res);
  }

  async release(eventId: string, holdId: string) {
    return unwrap(await this.client.v1.events[':eventId'].hold[':holdId'].$delete({ param: { eventId, holdId } }));
  }

  async purchase(eventId: string, holdId: string, paymentMethod: string) {
    return unwrap(await this.client.v1.events[':eventId'].purchase.$post({ param: { eventId }, json: { holdId, paymentMethod } }));
  }

  async order(orderId: string) {
    return this.call<{ orderId: string; eventId: string; seatIds: string[]; amountCents: number; createdAt: string }>(
      'GET',
      `/v1/orders/${orderId}`,
    );
  }

  // The waiting room, per API.md.
  async joinQueue(eventId: string, body: Record<string, unknown> = {}) {
    return this.call<{ position: number; status: QueueStatus }>('POST', `/v1/events/${eventId}/queue`, body);
  }

  async queueMe(eventId: string) {
    return this.call<QueueView>('GET', `/v1/events/${eventId}/queue/me`);
  }

  async joinWaitlist(eventId: string, quantity: number) {
    return this.call<{ position: number }>('POST', `/v1/events/${eventId}/waitlist`, { quantity });
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return unwrap<T>(res);
  }
}

export interface QueueView {
  position: number;
  servingPosition: number;
  ahead: number;
  estimatedWaitSeconds: number;
  status: QueueStatus;
  admissionToken?: string;
  admissionExpiresAt?: string;
  [k: string]: unknown;
}
