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
import type { ServerResponse } from 'node:http';
import { createRoute, z } from '@hono/zod-openapi';
import type { Logger } from '../../platform/logger';
import type { SeatCache } from '../../services/seat-cache';
import { router } from '../router';
import { changesFrame, type SeatFanout, type SeatListener } from '../seat-fanout';
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

/**
 * Bytes a stream may have waiting in its socket's buffer. Past this the
 * client reads slower than seats change: its frames are skipped, and once the
 * buffer drains it is caught up from the change log (or a fresh snapshot), so
 * a slow reader costs one replay instead of a queue of every frame it missed.
 */
export const MAX_BACKLOG_BYTES = 256 * 1024;
/** A client that has not drained its buffer for this long is gone in all but name: its connection is cut. */
export const STUCK_MS = 60_000;

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
    await deps.events.event(eventId);
    snapshots ??= new SnapshotBatcher((id) => deps.seatCache.snapshot(id));
    const session = new StreamSession(deps, eventId, snapshots);
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    // The body is only a hand-over: when the Node adapter has sent the head (with every header the middleware
    // added) and asks for the first chunk, the session takes the Node response and writes frames to it itself.
    const body = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => session.run(controller, outgoing, deps.fanout, resumeFrom === undefined ? null : Number(resumeFrom)),
        cancel: () => session.close(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 0 }),
    );
    return c.body(body, 200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'Transfer-Encoding': 'chunked',
      'X-Accel-Buffering': 'no', // proxies must not hold the stream back
    });
  });
}

/** Where a stream's bytes go: the Node response itself, or (served without Node's HTTP server) the response body. */
interface FrameSink {
  write(bytes: Uint8Array): void;
  /** Bytes written but not yet taken by the client. */
  backlog(): number;
  /** Calls back once the backlog has drained; null when the sink cannot tell. */
  onDrain: ((cb: () => void) => void) | null;
  /** Cuts the connection of a client that stopped reading. */
  destroy(): void;
}

function nodeSink(res: ServerResponse): FrameSink {
  return {
    write: (bytes) => void res.write(bytes),
    backlog: () => res.writableLength,
    onDrain: (cb) => void res.once('drain', cb),
    destroy: () => void res.destroy(),
  };
}

function bodySink(controller: ReadableStreamDefaultController<Uint8Array>): FrameSink {
  return {
    write: (bytes) => controller.enqueue(bytes),
    backlog: () => Math.max(0, -(controller.desiredSize ?? 0)),
    onDrain: null,
    destroy: () => controller.error(new Error('seat stream client stopped reading')),
  };
}

/**
 * One buyer's stream: buffers live frames while it catches up, then writes
 * them straight to the socket as the fan-out hands them over (the same bytes
 * for every stream of the event).
 */
export class StreamSession implements SeatListener {
  private sink: FrameSink | null = null;
  private live = false;
  private buffered: { bytes: Uint8Array; version: number }[] = [];
  private lastVersion: number | null = null;
  private catchingUp = false;
  private behindSince = 0;
  private closed = false;
  private unsubscribe: (() => void) | null = null;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private finish: () => void = () => undefined;

  constructor(
    private readonly deps: { seatCache: SeatCache; logger: Logger },
    private readonly eventId: string,
    private readonly snapshots: SnapshotBatcher,
  ) {}

  /** Runs the stream; the promise settles when it ends (the body's reader waits on it and is then closed). */
  async run(
    controller: ReadableStreamDefaultController<Uint8Array>,
    outgoing: ServerResponse | undefined,
    fanout: SeatFanout,
    from: number | null,
  ): Promise<void> {
    if (this.sink) return;
    const ended = new Promise<void>((resolve) => (this.finish = resolve));
    this.controller = controller;
    // Direct writes only once the adapter has sent the head; otherwise frames go through the body.
    this.sink = outgoing && outgoing.headersSent && !outgoing.destroyed ? nodeSink(outgoing) : bodySink(controller);
    try {
      const unsubscribe = await fanout.subscribe(this.eventId, this);
      if (this.closed) unsubscribe();
      else this.unsubscribe = unsubscribe;
      if (this.closed) return;
      // Spread reconnects of a whole audience over a few seconds.
      this.sink.write(encoder.encode(`retry: ${1000 + Math.floor(Math.random() * 4000)}\n\n`));
      await this.catchUp(from);
    } catch (err) {
      this.deps.logger.warn({ err, eventId: this.eventId }, 'seat stream failed to start');
      this.close();
      return;
    }
    await ended;
  }

  /** The client went away (or the stream was cut): stop listening. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffered = [];
    this.unsubscribe?.();
    this.unsubscribe = null;
    try {
      this.controller?.close(); // ends the response; throws when the client's cancel closed the body already
    } catch {
      // already closed
    }
    this.finish();
  }

  frame(bytes: Uint8Array, version: number): void {
    if (this.closed) return;
    if (!this.live) {
      if (version >= 0) this.buffered.push({ bytes, version });
      return;
    }
    this.send(bytes, version);
  }

  resync(): void {
    if (this.catchingUp || this.closed) return;
    this.live = false;
    this.catchUp(this.lastVersion).catch((err: unknown) => {
      this.deps.logger.warn({ err, eventId: this.eventId }, 'seat stream resync failed');
      this.sink?.destroy();
      this.close();
    });
  }

  private send(bytes: Uint8Array, version: number): void {
    const sink = this.sink;
    if (this.closed || !sink) return;
    if (this.behindSince) {
      // Skipped: the catch-up after the drain replays it from the log.
      if (Date.now() - this.behindSince > STUCK_MS) {
        sink.destroy();
        this.close();
      }
      return;
    }
    if (sink.backlog() >= MAX_BACKLOG_BYTES) {
      if (!sink.onDrain) {
        // No drain signal to wait for: close; the browser reconnects and resumes from the log.
        sink.destroy();
        this.close();
        return;
      }
      this.behindSince = Date.now();
      sink.onDrain(() => {
        this.behindSince = 0;
        this.resync();
      });
      return;
    }
    sink.write(bytes);
    if (version >= 0) this.lastVersion = version;
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
      this.live = !this.closed;
    } finally {
      this.catchingUp = false;
    }
  }
}
