/**
 * The seat map's first paint from the compact reads: the layout once (it does
 * not change during a sale, and the browser and any CDN keep it by its ETag),
 * then every seat's status, two bits a seat, decoded into the seat map's
 * model. The page then follows the stream from the statuses' version, so only
 * what changed since arrives.
 */
import { type SeatMapLayout, type SeatStatus, STATUS_ENCODING, statusAt } from '../../domain/seats';
import { ApiError } from './api';
import type { SeatLayout } from './seatmap';

export interface SeatsWithStatus {
  version: number;
  seats: (SeatLayout & { status: SeatStatus })[];
}

interface StatusesBody {
  version: number;
  encoding: string;
  seatCount: number;
  statuses: string;
}

/** Public reads: no credentials, so shared caches may serve them. */
async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'omit' });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
    throw new ApiError(
      res.status,
      body.error?.code ?? 'UNAVAILABLE',
      body.error?.message ?? `HTTP ${res.status}`,
      body.error?.details ?? {},
    );
  }
  return (await res.json()) as T;
}

/** Decodes packed statuses against the layout's order: sections, rows, numbers as listed. */
export function decodeSeats(layout: Pick<SeatMapLayout, 'sections'>, packed: Uint8Array): SeatsWithStatus['seats'] {
  const seats: SeatsWithStatus['seats'] = [];
  for (const section of layout.sections) {
    for (const { row, numbers } of section.rows) {
      for (const number of numbers) {
        seats.push({
          seatId: `${section.id}-${row}-${number}`,
          section: section.id,
          row,
          number,
          priceCents: section.priceCents,
          status: statusAt(packed, seats.length),
        });
      }
    }
  }
  return seats;
}

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export async function loadSeats(eventId: string): Promise<SeatsWithStatus> {
  const base = `/v1/events/${encodeURIComponent(eventId)}`;
  const layout = await getJson<SeatMapLayout>(`${base}/seatmap`);
  const s = await getJson<StatusesBody>(`${base}/seats/status`);
  if (s.encoding !== STATUS_ENCODING) throw new ApiError(500, 'UNAVAILABLE', `unknown status encoding ${s.encoding}`, {});
  return { version: s.version, seats: decodeSeats(layout, fromBase64(s.statuses)) };
}

/** The stream URL that resumes after the statuses' version (the server sends a snapshot when it cannot). */
export const seatStreamUrl = (eventId: string, version?: number) =>
  `/v1/events/${encodeURIComponent(eventId)}/seats/stream${version === undefined ? '' : `?lastEventId=${version}`}`;
