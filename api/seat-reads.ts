/**
 * The seat map's cacheable reads, prepared once and shared by every caller of
 * this process: the layout (fixed for a sale) and the packed statuses (one
 * Redis read per event per freshness window, whatever the crowd). Both are
 * served with a validator, so a client or CDN that holds the current version
 * gets 304 without a body.
 */
import { STATUS_ENCODING } from '../domain/seats';
import type { SeatCache } from '../services/seat-cache';
import { type PreparedAnswer, prepareJson } from './http-cache';

/** The layout does not change during a sale: shared caches may keep it for an hour and serve it stale while they check. */
export const LAYOUT_CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=86400';
/** Statuses change by the second; the stream carries what happens in between. */
export const STATUS_CACHE_CONTROL = 'public, max-age=1, stale-while-revalidate=2';

interface Entry {
  at: number;
  answer: PreparedAnswer;
  version: number;
  packed?: Uint8Array;
}

const MAX_EVENTS = 1000;

export class SeatReads {
  private readonly layouts = new Map<string, Entry>();
  private readonly statuses = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Entry>>();

  constructor(
    private readonly seatCache: SeatCache,
    private readonly opts: { statusFreshMs?: number; layoutTtlMs?: number } = {},
  ) {}

  /** The cached layout answer, if this process has it; no I/O. */
  peekLayout(eventId: string): PreparedAnswer | null {
    const hit = this.layouts.get(eventId);
    return hit && Date.now() - hit.at < (this.opts.layoutTtlMs ?? 60_000) ? hit.answer : null;
  }

  /** The cached statuses answer while it is fresh; no I/O. */
  peekStatuses(eventId: string): PreparedAnswer | null {
    const hit = this.statuses.get(eventId);
    return hit && Date.now() - hit.at < (this.opts.statusFreshMs ?? 250) ? hit.answer : null;
  }

  async layout(eventId: string): Promise<PreparedAnswer> {
    const hit = this.peekLayout(eventId);
    if (hit) return hit;
    const entry = await this.once(`l:${eventId}`, async () => {
      const layout = await this.seatCache.layout(eventId);
      const answer = prepareJson({ eventId, ...layout }, `"${layout.layoutVersion}"`, LAYOUT_CACHE_CONTROL);
      return { at: Date.now(), answer, version: 0 };
    });
    remember(this.layouts, eventId, entry);
    return entry.answer;
  }

  async packedStatuses(eventId: string): Promise<PreparedAnswer> {
    const hit = this.peekStatuses(eventId);
    if (hit) return hit;
    const entry = await this.once(`s:${eventId}`, async () => {
      const { version, seatCount, packed } = await this.seatCache.packedStatuses(eventId);
      const prev = this.statuses.get(eventId);
      if (prev && prev.version === version && prev.packed && sameBytes(prev.packed, packed)) {
        return { ...prev, at: Date.now() };
      }
      const body = {
        eventId,
        version,
        encoding: STATUS_ENCODING,
        seatCount,
        statuses: Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength).toString('base64'),
      };
      const answer = prepareJson(body, `"${version}"`, STATUS_CACHE_CONTROL);
      return { at: Date.now(), answer, version, packed: Uint8Array.from(packed) };
    });
    remember(this.statuses, eventId, entry);
    return entry.answer;
  }

  /** One read per key at a time: callers arriving meanwhile share its result. */
  private once(key: string, read: () => Promise<Entry>): Promise<Entry> {
    let p = this.inFlight.get(key);
    if (!p) {
      p = read().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }
}

function remember(map: Map<string, Entry>, eventId: string, entry: Entry): void {
  if (map.size >= MAX_EVENTS && !map.has(eventId)) map.delete(map.keys().next().value!);
  map.set(eventId, entry);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
