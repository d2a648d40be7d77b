/**
 * The seat map in Redis: a read cache kept current by the activities that
 * change seats, rebuilt from Postgres when missing. Postgres stays the source
 * of truth; every cached seat carries the version Postgres gave its last
 * change, and an older change never overwrites a newer one, so concurrent
 * writers and a rebuild can interleave in any order.
 *
 * This module owns the cache's Redis format (status hash, counts, version,
 * layout, seat index, packed status bits, change log and channel): every
 * reader goes through its methods, and each read falls back to Postgres in one
 * place when Redis fails.
 *
 * The packed bits (`ev:{id}:bits`) are the body of `GET /seats/status` before
 * base64: two bits a seat in layout order, set by the same script that changes
 * the status hash, so a read is one GET of 12.5 KB for 50,000 seats instead of
 * a walk over the hash.
 */
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import type { Pool } from 'pg';
import { loadSections } from '../db/queries/events';
import { countSeatsByStatus, loadSeatMap } from '../db/queries/seats';
import {
  packedLength,
  packStatuses,
  type Seat,
  type SeatChange,
  type SeatChangeMessage,
  type SeatMapLayout,
  type SeatStatus,
  type VersionedSeat,
} from '../domain/seats';
import type { Logger } from '../platform/logger';

// Each seat's bit pair is rewritten from the hash's current status whether or
// not this change won, so a rebuild running alongside live changes leaves the
// bits equal to the hash once it has passed over every seat.
const APPLY = `
local maxv = tonumber(redis.call('GET', KEYS[3]) or '0')
local bitcode = { a = 0, h = 1, s = 2 }
local applied = 0
for i = 1, #ARGV, 3 do
  local seat, st, v = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local cur = redis.call('HGET', KEYS[1], seat)
  local curst, curv = nil, -1
  if cur then
    curst = string.sub(cur, 1, 1)
    curv = tonumber(string.sub(cur, 3))
  end
  local now = curst
  if v > curv then
    redis.call('HSET', KEYS[1], seat, st .. ':' .. v)
    if curst then redis.call('HINCRBY', KEYS[2], curst, -1) end
    redis.call('HINCRBY', KEYS[2], st, 1)
    applied = applied + 1
    if v > maxv then maxv = v end
    now = st
  end
  local idx = redis.call('HGET', KEYS[5], seat)
  if idx and now then redis.call('BITFIELD', KEYS[4], 'SET', 'u2', '#' .. idx, bitcode[now]) end
end
redis.call('SET', KEYS[3], maxv)
return applied`;

const CODE: Record<SeatStatus, string> = { available: 'a', held: 'h', sold: 's' };
const STATUS: Record<string, SeatStatus> = { a: 'available', h: 'held', s: 'sold' };

export interface SeatCounts {
  available: number;
  held: number;
  sold: number;
}

export interface SeatMapView {
  version: number;
  seats: Seat[];
}

/** Keys share the event's hash tag so a Redis Cluster keeps them on one slot. */
export const seatKeys = (eventId: string) => ({
  status: `ev:{${eventId}}:status`,
  counts: `ev:{${eventId}}:counts`,
  version: `ev:{${eventId}}:version`,
  layout: `ev:{${eventId}}:layout`,
  index: `ev:{${eventId}}:index`, // seatId → position in the layout
  bits: `ev:{${eventId}}:bits`, // packed statuses in layout order
  ready: `ev:{${eventId}}:ready`,
  changes: `ev:{${eventId}}:changes`,
  channel: `seats:${eventId}`,
});

/** The pub/sub channel on which an event's committed changes are announced. */
export const seatChannel = (eventId: string) => seatKeys(eventId).channel;

/** The version of a published change message, read without parsing the whole of it. */
export function messageVersion(raw: string): number | null {
  const m = /^\{"version":(\d+)/.exec(raw);
  if (m) return Number(m[1]);
  try {
    return (JSON.parse(raw) as SeatChangeMessage).version;
  } catch {
    return null;
  }
}

type Layout = [seatId: string, section: string, row: number, number: number, priceCents: number][];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    applySeatChanges(
      status: string,
      counts: string,
      version: string,
      bits: string,
      index: string,
      ...args: (string | number)[]
    ): Result<number, Context>;
  }
}

const withCommand = new WeakSet<Redis>();

export class SeatCache {
  constructor(
    private readonly redis: Redis,
    private readonly pool: Pool,
    private readonly logger?: Logger,
  ) {
    if (!withCommand.has(redis)) {
      redis.defineCommand('applySeatChanges', { numberOfKeys: 5, lua: APPLY });
      withCommand.add(redis);
    }
  }

  /** Applies committed changes and announces them to live seat-map streams. */
  async apply(eventId: string, changes: SeatChange[]): Promise<void> {
    if (!changes.length) return;
    const k = seatKeys(eventId);
    const args = changes.flatMap((c) => [c.seatId, CODE[c.status], c.version]);
    await this.redis.applySeatChanges(k.status, k.counts, k.version, k.bits, k.index, ...args);
    const version = Math.max(...changes.map((c) => c.version));
    const message = JSON.stringify({ version, changes: changes.map((c) => [c.seatId, c.status, c.version]) });
    await this.redis.multi().xadd(k.changes, 'MAXLEN', '~', '20000', '*', 'm', message).publish(k.channel, message).exec();
  }

  /** Drops the cached map so the next read rebuilds it from Postgres. */
  async invalidate(eventId: string): Promise<void> {
    const k = seatKeys(eventId);
    await this.redis.del(k.ready, k.status, k.counts, k.layout, k.index, k.bits);
  }

  async rebuild(eventId: string, rows?: VersionedSeat[]): Promise<void> {
    const k = seatKeys(eventId);
    const seats = rows ?? (await loadSeatMap(this.pool, eventId));
    const layout: Layout = seats.map((s) => [s.seatId, s.section, s.row, s.number, s.priceCents]);
    await this.redis.set(k.layout, JSON.stringify(layout));
    for (let i = 0; i < seats.length; i += 2000) {
      await this.redis.hset(k.index, ...seats.slice(i, i + 2000).flatMap((s, j) => [s.seatId, i + j]));
    }
    for (let i = 0; i < seats.length; i += 2000) {
      const args = seats.slice(i, i + 2000).flatMap((s) => [s.seatId, CODE[s.status], s.version]);
      await this.redis.applySeatChanges(k.status, k.counts, k.version, k.bits, k.index, ...args);
    }
    await this.redis.set(k.ready, '1');
  }

  private async ensure(eventId: string): Promise<void> {
    if ((await this.redis.exists(seatKeys(eventId).ready)) === 0) await this.rebuild(eventId);
  }

  /** Redis first; when Redis fails, the same answer from Postgres. */
  private async orDatabase<T>(
    eventId: string,
    what: string,
    fromCache: () => Promise<T>,
    fromDb: (seats: VersionedSeat[]) => T,
  ): Promise<T> {
    try {
      return await fromCache();
    } catch (err) {
      this.logger?.warn({ err, eventId }, `seat cache unavailable; reading ${what} from Postgres`);
      return fromDb(await loadSeatMap(this.pool, eventId));
    }
  }

  async counts(eventId: string): Promise<SeatCounts> {
    return this.orDatabase(
      eventId,
      'seat counts',
      async () => {
        await this.ensure(eventId);
        const c = await this.redis.hgetall(seatKeys(eventId).counts);
        return { available: Number(c.a ?? 0), held: Number(c.h ?? 0), sold: Number(c.s ?? 0) };
      },
      (seats) => {
        const counts = { available: 0, held: 0, sold: 0 };
        for (const s of seats) counts[s.status]++;
        return counts;
      },
    );
  }

  /**
   * Counts for many events at once, for listings: from Redis where the event's
   * cache is built, else one grouped count in Postgres for the rest. Never
   * builds a cache (a page of fifty events must not rebuild fifty seat maps).
   */
  async countsOf(eventIds: string[]): Promise<Map<string, SeatCounts>> {
    const out = new Map<string, SeatCounts>();
    const missing: string[] = [];
    try {
      const pipe = this.redis.pipeline();
      for (const id of eventIds) pipe.exists(seatKeys(id).ready).hgetall(seatKeys(id).counts);
      const replies = (await pipe.exec()) ?? [];
      eventIds.forEach((id, i) => {
        const ready = replies[2 * i]?.[1] === 1;
        const c = replies[2 * i + 1]?.[1] as Record<string, string> | undefined;
        if (ready && c) out.set(id, { available: Number(c.a ?? 0), held: Number(c.h ?? 0), sold: Number(c.s ?? 0) });
        else missing.push(id);
      });
    } catch (err) {
      this.logger?.warn({ err }, 'seat cache unavailable; counting a listing in Postgres');
      missing.push(...eventIds.filter((id) => !out.has(id)));
    }
    if (missing.length) for (const [id, counts] of await countSeatsByStatus(this.pool, missing)) out.set(id, counts);
    return out;
  }

  async seatMap(eventId: string): Promise<SeatMapView> {
    return this.orDatabase(eventId, 'the seat map', () => this.seatMapFromCache(eventId), mapOf);
  }

  private async seatMapFromCache(eventId: string): Promise<SeatMapView> {
    await this.ensure(eventId);
    const k = seatKeys(eventId);
    const [[, layoutJson], [, statuses], [, version]] = (await this.redis
      .multi()
      .get(k.layout)
      .hgetall(k.status)
      .get(k.version)
      .exec()) as [[null, string | null], [null, Record<string, string>], [null, string | null]];
    if (!layoutJson) {
      await this.rebuild(eventId);
      return this.seatMapFromCache(eventId);
    }
    const layout = JSON.parse(layoutJson) as Layout;
    return {
      version: Number(version ?? 0),
      seats: layout.map(([seatId, section, row, number, priceCents]) => ({
        seatId,
        section,
        row,
        number,
        priceCents,
        status: STATUS[statuses[seatId]?.[0] ?? 'a'] ?? 'available',
      })),
    };
  }

  /**
   * The layout as `GET /seatmap` answers it: sections in their order, rows and
   * seat numbers as the seats are stored, the order the packed statuses follow.
   * It does not change during a sale; `layoutVersion` is a digest of it.
   */
  async layout(eventId: string): Promise<SeatMapLayout> {
    const seats = await this.orDatabase(
      eventId,
      'the seat layout',
      async () => {
        await this.ensure(eventId);
        const json = await this.redis.get(seatKeys(eventId).layout);
        if (json) return JSON.parse(json) as Layout;
        await this.rebuild(eventId);
        return JSON.parse((await this.redis.get(seatKeys(eventId).layout)) ?? '[]') as Layout;
      },
      (rows): Layout => rows.map((s) => [s.seatId, s.section, s.row, s.number, s.priceCents]),
    );
    const names = new Map((await loadSections(this.pool, eventId)).map((s) => [s.id, s]));
    const sections: SeatMapLayout['sections'] = [];
    for (const [, section, row, number, priceCents] of seats) {
      let sec = sections[sections.length - 1];
      if (sec?.id !== section) {
        const meta = names.get(section);
        sections.push((sec = { id: section, name: meta?.name ?? section, priceCents: meta?.priceCents ?? priceCents, rows: [] }));
      }
      let r = sec.rows[sec.rows.length - 1];
      if (r?.row !== row) sec.rows.push((r = { row, numbers: [] }));
      r.numbers.push(number);
    }
    const layoutVersion = createHash('sha256').update(JSON.stringify(sections)).digest('base64url').slice(0, 16);
    return { layoutVersion, seatCount: seats.length, sections };
  }

  /** The seat map's current version (the highest applied change). */
  async version(eventId: string): Promise<number> {
    return this.orDatabase(
      eventId,
      'the seat-map version',
      async () => {
        await this.ensure(eventId);
        return Number((await this.redis.get(seatKeys(eventId).version)) ?? 0);
      },
      (rows) => rows.reduce((m, r) => Math.max(m, r.version), 0),
    );
  }

  /**
   * Every seat's status packed two bits a seat in layout order, with the
   * version it reflects; both come from one atomic read.
   */
  async packedStatuses(eventId: string): Promise<{ version: number; seatCount: number; packed: Uint8Array }> {
    return this.orDatabase(
      eventId,
      'packed seat statuses',
      () => this.packedFromCache(eventId),
      (rows) => ({
        version: rows.reduce((m, r) => Math.max(m, r.version), 0),
        seatCount: rows.length,
        packed: packStatuses(rows.map((r) => r.status)),
      }),
    );
  }

  private async packedFromCache(eventId: string, rebuilt = false): Promise<{ version: number; seatCount: number; packed: Uint8Array }> {
    await this.ensure(eventId);
    const k = seatKeys(eventId);
    const [[, bits], [, version], [, seatCount]] = (await this.redis.multi().getBuffer(k.bits).get(k.version).hlen(k.index).exec()) as [
      [null, Buffer | null],
      [null, string | null],
      [null, number],
    ];
    const want = packedLength(seatCount);
    if (!bits || seatCount === 0 || bits.length < want) {
      // Part of the cache went missing: rebuild once, then trust what is there.
      if (rebuilt) return { version: Number(version ?? 0), seatCount, packed: new Uint8Array(want) };
      await this.rebuild(eventId);
      return this.packedFromCache(eventId, true);
    }
    return { version: Number(version ?? 0), seatCount, packed: bits.length === want ? bits : bits.subarray(0, want) };
  }

  /**
   * Every seat that ever changed, as the JSON of a stream snapshot:
   * `{"version":V,"seats":[[seatId,status,version],...]}` (the rest are available at version 0).
   */
  async snapshot(eventId: string): Promise<string> {
    return this.orDatabase(
      eventId,
      'the stream snapshot',
      async () => {
        await this.ensure(eventId);
        const k = seatKeys(eventId);
        const [[, statuses], [, version]] = (await this.redis.multi().hgetall(k.status).get(k.version).exec()) as [
          [null, Record<string, string>],
          [null, string | null],
        ];
        const parts: string[] = [];
        for (const seatId in statuses) {
          const value = statuses[seatId]!;
          const v = value.slice(2);
          if (v === '0') continue;
          parts.push(`[${JSON.stringify(seatId)},"${STATUS[value[0]!] ?? 'available'}",${v}]`);
        }
        return `{"version":${Number(version ?? 0)},"seats":[${parts.join(',')}]}`;
      },
      (rows) => {
        const seats = rows.filter((r) => r.version > 0).map((r) => [r.seatId, r.status, r.version]);
        return JSON.stringify({ version: rows.reduce((m, r) => Math.max(m, r.version), 0), seats });
      },
    );
  }

  /**
   * The change log after a version a client has seen. The log is in publish
   * order, which can differ from version order by the few changes in flight at
   * once, so the replay starts a margin before the anchor (the entry whose
   * version the client saw); clients apply per-seat versions, so a change
   * delivered twice is harmless. Null when the anchor is no longer in the log:
   * the caller sends a fresh snapshot instead.
   */
  async changesSince(
    eventId: string,
    version: number,
    opts: { scanLimit?: number; marginMs?: number } = {},
  ): Promise<{ raw: string; version: number }[] | null> {
    const key = seatKeys(eventId).changes;
    const scanLimit = opts.scanLimit ?? 5000;
    const marginMs = opts.marginMs ?? 5000;
    let end = '+';
    let scanned = 0;
    let anchor: string | null = null;
    while (scanned < scanLimit && !anchor) {
      const page = (await this.redis.xrevrange(key, end, '-', 'COUNT', 500)) as [string, string[]][];
      if (!page.length) break;
      for (const [id, fields] of page) {
        scanned++;
        const v = logVersion(fields);
        if (v === version) {
          anchor = id;
          break;
        }
        // Versions only grow; far below the one asked for means it was trimmed away.
        if (v !== null && v < version - 100_000) return null;
      }
      const lastId = page[page.length - 1]![0];
      if (page.length < 500) break;
      end = `(${lastId}`;
    }
    if (!anchor) return null;
    const anchorMs = Number(anchor.split('-')[0]);
    const entries = (await this.redis.xrange(key, String(Math.max(0, anchorMs - marginMs)), '+')) as [string, string[]][];
    const out: { raw: string; version: number }[] = [];
    for (const [id, fields] of entries) {
      if (id === anchor) continue;
      const raw = logMessage(fields);
      const v = logVersion(fields);
      if (raw === null || v === null) continue;
      out.push({ raw, version: v });
    }
    return out;
  }
}

function logMessage(fields: string[]): string | null {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'm') return fields[i + 1]!;
  return null;
}

function logVersion(fields: string[]): number | null {
  const raw = logMessage(fields);
  return raw === null ? null : messageVersion(raw);
}

function mapOf(rows: VersionedSeat[]): SeatMapView {
  return {
    version: rows.reduce((v, r) => Math.max(v, r.version), 0),
    seats: rows.map(({ version: _v, ...seat }) => seat),
  };
}
