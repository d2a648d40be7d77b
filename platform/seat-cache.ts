/**
 * The seat map in Redis: a read cache kept current by the activities that
 * change seats, rebuilt from Postgres when missing. Postgres stays the source
 * of truth; every cached seat carries the version Postgres gave its last
 * change, and an older change never overwrites a newer one, so concurrent
 * writers and a rebuild can interleave in any order.
 */
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import type { Pool } from 'pg';
import type { SeatChange, SeatRow, SeatStatus } from '../db/queries/seats';
import { loadSeatMap } from '../db/queries/seats';

const APPLY = `
local maxv = tonumber(redis.call('GET', KEYS[3]) or '0')
local applied = 0
for i = 1, #ARGV, 3 do
  local seat, st, v = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local cur = redis.call('HGET', KEYS[1], seat)
  local curst, curv = nil, -1
  if cur then
    curst = string.sub(cur, 1, 1)
    curv = tonumber(string.sub(cur, 3))
  end
  if v > curv then
    redis.call('HSET', KEYS[1], seat, st .. ':' .. v)
    if curst then redis.call('HINCRBY', KEYS[2], curst, -1) end
    redis.call('HINCRBY', KEYS[2], st, 1)
    applied = applied + 1
    if v > maxv then maxv = v end
  end
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
  seats: { seatId: string; section: string; row: number; number: number; priceCents: number; status: SeatStatus }[];
}

/** Keys share the event's hash tag so a Redis Cluster keeps them on one slot. */
export const seatKeys = (eventId: string) => ({
  status: `ev:{${eventId}}:status`,
  counts: `ev:{${eventId}}:counts`,
  version: `ev:{${eventId}}:version`,
  layout: `ev:{${eventId}}:layout`,
  ready: `ev:{${eventId}}:ready`,
  changes: `ev:{${eventId}}:changes`,
  channel: `seats:${eventId}`,
});

type Layout = [seatId: string, section: string, row: number, number: number, priceCents: number][];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    applySeatChanges(status: string, counts: string, version: string, ...args: (string | number)[]): Result<number, Context>;
  }
}

const withCommand = new WeakSet<Redis>();

export class SeatCache {
  constructor(
    private readonly redis: Redis,
    private readonly pool: Pool,
  ) {
    if (!withCommand.has(redis)) {
      redis.defineCommand('applySeatChanges', { numberOfKeys: 3, lua: APPLY });
      withCommand.add(redis);
    }
  }

  /** Applies committed changes and announces them to live seat-map streams. */
  async apply(eventId: string, changes: SeatChange[]): Promise<void> {
    if (!changes.length) return;
    const k = seatKeys(eventId);
    const args = changes.flatMap((c) => [c.seatId, CODE[c.status], c.version]);
    await this.redis.applySeatChanges(k.status, k.counts, k.version, ...args);
    const version = Math.max(...changes.map((c) => c.version));
    const message = JSON.stringify({ version, changes: changes.map((c) => [c.seatId, c.status, c.version]) });
    await this.redis
      .multi()
      .xadd(k.changes, 'MAXLEN', '~', '20000', '*', 'm', message)
      .publish(k.channel, message)
      .exec();
  }

  /** Drops the cached map so the next read rebuilds it from Postgres. */
  async invalidate(eventId: string): Promise<void> {
    const k = seatKeys(eventId);
    await this.redis.del(k.ready, k.status, k.counts, k.layout);
  }

  async rebuild(eventId: string, rows?: SeatRow[]): Promise<void> {
    const k = seatKeys(eventId);
    const seats = rows ?? (await loadSeatMap(this.pool, eventId));
    const layout: Layout = seats.map((s) => [s.seatId, s.section, s.row, s.number, s.priceCents]);
    await this.redis.set(k.layout, JSON.stringify(layout));
    for (let i = 0; i < seats.length; i += 2000) {
      const args = seats.slice(i, i + 2000).flatMap((s) => [s.seatId, CODE[s.status], s.version]);
      await this.redis.applySeatChanges(k.status, k.counts, k.version, ...args);
    }
    await this.redis.set(k.ready, '1');
  }

  private async ensure(eventId: string): Promise<void> {
    if ((await this.redis.exists(seatKeys(eventId).ready)) === 0) await this.rebuild(eventId);
  }

  async counts(eventId: string): Promise<SeatCounts> {
    await this.ensure(eventId);
    const c = await this.redis.hgetall(seatKeys(eventId).counts);
    return { available: Number(c.a ?? 0), held: Number(c.h ?? 0), sold: Number(c.s ?? 0) };
  }

  async seatMap(eventId: string): Promise<SeatMapView> {
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
      return this.seatMap(eventId);
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
}

/** Reads straight from Postgres: the fallback when Redis is unreachable. */
export async function seatMapFromDatabase(pool: Pool, eventId: string): Promise<SeatMapView> {
  const rows = await loadSeatMap(pool, eventId);
  return {
    version: rows.reduce((v, r) => Math.max(v, r.version), 0),
    seats: rows.map(({ version: _v, ...seat }) => seat),
  };
}
