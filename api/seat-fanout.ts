/**
 * Live seat changes for the API process. One Redis subscriber connection per
 * process carries every event's `seats:<eventId>` channel. Messages of one
 * event are coalesced over a short window (100 ms by default) into one
 * `changes` frame, encoded once, and the same bytes go to every open stream of
 * that event: during a rush of sales each stream gets ten writes a second
 * however many changes commit, and fan-out costs one encoding per window, not
 * one per buyer or per change.
 *
 * Redis pub/sub drops what it cannot deliver. When the subscriber reconnects,
 * every stream is asked to resync from the change log
 * (`ev:{<eventId>}:changes`, an XADD'ed in the same MULTI as each PUBLISH).
 */
import type Redis from 'ioredis';
import { Gauge } from 'prom-client';
import type { Logger } from '../platform/logger';
import type { SeatChangeMessage } from '../domain/seats';
import { messageVersion, seatChannel } from '../services/seat-cache';
import { registry } from './metrics';

/** One open stream, as the fan-out sees it. */
export interface SeatListener {
  /** A change message, already encoded as an SSE frame. */
  frame(bytes: Uint8Array, version: number): void;
  /** Messages may have been lost (subscriber reconnected): catch up from the change log. */
  resync(): void;
}

const encoder = new TextEncoder();

/** `id` is the message's highest seat version, so Last-Event-ID says how far a client got. */
export function changesFrame(raw: string, version: number): Uint8Array {
  return encoder.encode(`id: ${version}\nevent: changes\ndata: ${raw}\n\n`);
}

export const KEEPALIVE_FRAME = encoder.encode(': keepalive\n\n');

const openStreams = new Gauge({
  name: 'onsale_seat_streams_open',
  help: 'Seat-map SSE streams open in this process',
  registers: [registry],
});

/** How long a channel stays subscribed after its last stream closes, so reconnect waves do not churn. */
const LINGER_MS = 30_000;

interface Channel {
  listeners: Set<SeatListener>;
  subscribed: Promise<unknown>;
  linger?: NodeJS.Timeout;
  /** Messages received in the current window, with their versions. */
  pending: { raw: string; version: number }[];
  flush?: NodeJS.Timeout;
}

/** One message carrying every change of several, under the highest version. */
export function mergeMessages(messages: { raw: string; version: number }[]): { raw: string; version: number } {
  if (messages.length === 1) return messages[0]!;
  let version = 0;
  const changes: SeatChangeMessage['changes'] = [];
  for (const m of messages) {
    const parsed = JSON.parse(m.raw) as SeatChangeMessage;
    version = Math.max(version, parsed.version);
    for (const c of parsed.changes) changes.push(c);
  }
  return { raw: JSON.stringify({ version, changes }), version };
}

export class SeatFanout {
  private sub: Redis | null = null;
  private readonly channels = new Map<string, Channel>();
  private wasReady = false;
  private lostConnection = false;
  private keepalive: NodeJS.Timeout | null = null;
  private closed = false;
  size = 0;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly keepaliveMs = 20_000,
    private readonly windowMs = 100,
  ) {
    // The subscriber lives as long as the process's main Redis client.
    redis.once('end', () => this.close());
  }

  private subscriber(): Redis {
    if (this.sub) return this.sub;
    const sub = this.redis.duplicate({
      connectionName: 'onsale-api-seat-streams',
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
    });
    sub.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    sub.on('ready', () => {
      if (this.wasReady && this.lostConnection) {
        this.logger.warn({ channels: this.channels.size }, 'seat subscriber reconnected; streams resync from the change log');
        for (const ch of this.channels.values()) for (const l of ch.listeners) l.resync();
      }
      this.wasReady = true;
      this.lostConnection = false;
    });
    sub.on('close', () => {
      if (this.wasReady) this.lostConnection = true;
    });
    sub.on('error', (err) => this.logger.warn({ err }, 'seat subscriber error'));
    this.sub = sub;
    this.keepalive = setInterval(() => this.broadcast(KEEPALIVE_FRAME), this.keepaliveMs);
    this.keepalive.unref();
    return sub;
  }

  /** Adds a listener; resolves once Redis confirms the subscription, so nothing published afterwards is missed. */
  async subscribe(eventId: string, listener: SeatListener): Promise<() => void> {
    if (this.closed) throw new Error('seat fan-out is closed');
    const name = seatChannel(eventId);
    let ch = this.channels.get(name);
    if (!ch) {
      const sub = this.subscriber();
      ch = { listeners: new Set(), subscribed: sub.subscribe(name), pending: [] };
      this.channels.set(name, ch);
      ch.subscribed.catch(() => this.channels.get(name) === ch && this.channels.delete(name));
    }
    if (ch.linger) {
      clearTimeout(ch.linger);
      ch.linger = undefined;
    }
    ch.listeners.add(listener);
    this.size++;
    openStreams.inc();
    const channel = ch;
    let removed = false;
    const unsubscribe = () => {
      if (removed) return;
      removed = true;
      channel.listeners.delete(listener);
      this.size--;
      openStreams.dec();
      if (channel.listeners.size === 0 && !this.closed) {
        channel.linger = setTimeout(() => {
          if (channel.listeners.size > 0 || this.channels.get(name) !== channel) return;
          this.channels.delete(name);
          this.sub?.unsubscribe(name).catch((err: unknown) => this.logger.warn({ err, name }, 'unsubscribe failed'));
        }, LINGER_MS);
        channel.linger.unref();
      }
    };
    try {
      await channel.subscribed;
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  private dispatch(channel: string, raw: string): void {
    const ch = this.channels.get(channel);
    if (!ch || ch.listeners.size === 0) return;
    const version = messageVersion(raw);
    if (version === null) {
      this.logger.warn({ channel }, 'unreadable seat change message');
      return;
    }
    ch.pending.push({ raw, version });
    if (this.windowMs <= 0) return this.flush(ch);
    ch.flush ??= setTimeout(() => this.flush(ch), this.windowMs);
  }

  /** Sends the window's changes as one frame, encoded once for every stream of the event. */
  private flush(ch: Channel): void {
    ch.flush = undefined;
    const messages = ch.pending;
    ch.pending = [];
    if (!messages.length || ch.listeners.size === 0) return;
    let merged: { raw: string; version: number };
    try {
      merged = mergeMessages(messages);
    } catch (err) {
      this.logger.warn({ err }, 'unreadable seat change message; streams resync from the change log');
      for (const l of ch.listeners) l.resync();
      return;
    }
    const bytes = changesFrame(merged.raw, merged.version);
    for (const l of ch.listeners) l.frame(bytes, merged.version);
  }

  private broadcast(bytes: Uint8Array): void {
    for (const ch of this.channels.values()) for (const l of ch.listeners) l.frame(bytes, -1);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepalive) clearInterval(this.keepalive);
    for (const ch of this.channels.values()) {
      if (ch.linger) clearTimeout(ch.linger);
      if (ch.flush) clearTimeout(ch.flush);
    }
    this.channels.clear();
    this.sub?.disconnect();
    this.sub = null;
  }
}
