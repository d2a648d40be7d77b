/**
 * GET /v1/events/{eventId}/seats/stream — the seat map, live, as server-sent events.
 *
 *   event: snapshot  id: <version>  data: {"version":V,"seats":[[seatId,status,version],...]}
 *     every seat that ever changed (the rest are available at version 0)
 *   event: changes   id: <version>  data: {"version":V,"changes":[[seatId,status,version],...]}
 *
 * A client applies a change only when its version is above the seat's, so a
 * change seen twice is harmless. Reconnecting with Last-Event-ID (or
 * ?lastEventId=) replays the change log from there; when that part of the log
 * is gone it gets a fresh snapshot.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { Logger } from '../../platform/logger';
import type { SeatCache } from '../../services/seat-cache';
import { router } from '../router';
import { changesFrame, type SeatListener } from '../seat-fanout';
import { errorResponses, EventIdParam } from '../schemas';

const VERSION = z.string().regex(/^\d{1,15}$/, 'not a seat-map version');

/**
 * One event of the stream as SSE parsers see it: `event`, `id` (a seat-map
 * version) and `data`, the JSON of a snapshot or of a batch of changes.
 * Comment lines (keep-alives) and the opening `retry:` carry no event.
 */
const SeatStreamEvent = z
  .object({
    event: z.enum(['snapshot', 'changes']),
    id: VERSION,
    retry: z.number().int().min(0).optional(),
    data: z.string().openapi({
      contentMediaType: 'application/json',
      contentSchema: {
        oneOf: [
          {
            type: 'object',
            title: 'snapshot',
            required: ['version', 'seats'],
            properties: { version: { type: 'integer', minimum: 0 }, seats: { type: 'array', items: {} } },
          },
          {
            type: 'object',
            title: 'changes',
            required: ['version', 'changes'],
            properties: { version: { type: 'integer', minimum: 0 }, changes: { type: 'array', items: {} } },
          },
        ],
      },
    } as Record<string, unknown>),
  })
  .openapi('SeatStreamEvent');

const seatStream = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/seats/stream',
  tags: ['Browsing'],
  description:
    'Server-sent events: a `snapshot` (every seat that changed since the event was created, with its version), then ' +
    '`changes` as they commit. Each event id is a seat-map version; reconnect with `Last-Event-ID` (or `?lastEventId=`) ' +
    'to receive only what was missed. Seat entries are `[seatId, status, version]`; apply one only if its version is ' +
    'above the seat’s.',
  request: {
    params: EventIdParam,
    headers: z.object({ 'last-event-id': VERSION.optional() }),
    query: z.object({ lastEventId: VERSION.optional() }),
  },
  responses: {
    200: { description: 'An event stream', content: { 'text/event-stream': { schema: SeatStreamEvent } } },
    ...errorResponses(400, 404),
  },
});

/** A stream further behind than this many frames is closed; its browser reconnects and resumes from the log. */
const MAX_PENDING_FRAMES = 512;

const encoder = new TextEncoder();

/**
 * Snapshot reads batched per event: a read starts only after every stream
 * waiting for it had subscribed, so none misses a change, and a crowd opening
 * the map at once costs one read per batch instead of one per buyer.
 */
export class SnapshotBatcher {
  private readonly batches = new Map<string, { running: Promise<string> | null; next: Promise<string> | null }>();

  constructor(private readonly read: (eventId: string) => Promise<string>) {}

  get(eventId: string): Promise<string> {
    let b = this.batches.get(eventId);
    if (!b) this.batches.set(eventId, (b = { running: null, next: null }));
    const batch = b;
    if (!batch.running) return this.run(eventId, batch);
    // A read is under way but may predate this caller's subscription: join the one after it.
    batch.next ??= batch.running
      .catch(() => undefined)
      .then(() => {
        batch.next = null;
        return this.run(eventId, batch);
      });
    return batch.next;
  }

  private run(eventId: string, batch: { running: Promise<string> | null; next: Promise<string> | null }): Promise<string> {
    const p = this.read(eventId).finally(() => {
      if (batch.running === p) batch.running = null;
      if (!batch.running && !batch.next) this.batches.delete(eventId);
    });
    batch.running = p;
    return p;
  }
}

export function streamRoutes() {
  let snapshots: SnapshotBatcher | null = null;
  return router().openapi(seatStream, async (c) => {
    const { eventId } = c.req.valid('param');
    const resumeFrom = c.req.valid('header')['last-event-id'] ?? c.req.valid('query').lastEventId;
    const deps = c.var.services;
    const { events, fanout } = deps;
    await events.event(eventId);
    c.header('X-Accel-Buffering', 'no'); // proxies must not hold the stream back
    snapshots ??= new SnapshotBatcher((id) => deps.seatCache.snapshot(id));
    const batcher = snapshots;
    return streamSSE(c, async (stream) => {
      const session = new StreamSession(stream, deps, eventId, batcher);
      const closed = new Promise<void>((resolve) => stream.onAbort(resolve));
      const unsubscribe = await fanout.subscribe(eventId, session);
      try {
        // Spread reconnects of a whole audience over a few seconds.
        await stream.write(`retry: ${1000 + Math.floor(Math.random() * 4000)}\n\n`);
        await session.catchUp(resumeFrom === undefined ? null : Number(resumeFrom));
        await closed;
      } finally {
        unsubscribe();
      }
    });
  });
}

/** One buyer's stream: buffers live frames while it catches up, then writes them as they come. */
class StreamSession implements SeatListener {
  private live = false;
  private buffered: { bytes: Uint8Array; version: number }[] = [];
  private pending = 0;
  private lastVersion: number | null = null;
  private catchingUp = false;

  constructor(
    private readonly stream: SSEStreamingApi,
    private readonly deps: { seatCache: SeatCache; logger: Logger },
    private readonly eventId: string,
    private readonly snapshots: SnapshotBatcher,
  ) {}

  frame(bytes: Uint8Array, version: number): void {
    if (this.stream.aborted || this.stream.closed) return;
    if (!this.live) {
      if (version >= 0) this.buffered.push({ bytes, version });
      return;
    }
    this.send(bytes, version);
  }

  resync(): void {
    if (this.catchingUp) return;
    this.live = false;
    this.catchUp(this.lastVersion).catch((err: unknown) => {
      this.deps.logger.warn({ err, eventId: this.eventId }, 'seat stream resync failed');
      this.stream.abort();
    });
  }

  private send(bytes: Uint8Array, version: number): void {
    if (this.pending >= MAX_PENDING_FRAMES) {
      // A consumer this slow would hold memory for everyone; it resumes from the log on reconnect.
      this.stream.abort();
      return;
    }
    this.pending++;
    if (version >= 0) this.lastVersion = version;
    void this.stream.write(bytes).then(() => this.pending--);
  }

  /** Sends what the client lacks (a replay after `from`, or a snapshot), then goes live. */
  async catchUp(from: number | null): Promise<void> {
    this.catchingUp = true;
    try {
      const replay = from === null ? null : await this.deps.seatCache.changesSince(this.eventId, from);
      if (replay) {
        for (const m of replay) this.send(changesFrame(m.raw, m.version), m.version);
      } else {
        const snapshot = await this.snapshots.get(this.eventId);
        const version = Number(/^\{"version":(\d+)/.exec(snapshot)?.[1] ?? 0);
        this.send(encoder.encode(`id: ${version}\nevent: snapshot\ndata: ${snapshot}\n\n`), version);
      }
      const buffered = this.buffered;
      this.buffered = [];
      for (const f of buffered) this.send(f.bytes, f.version);
      this.live = true;
    } finally {
      this.catchingUp = false;
    }
  }
}
