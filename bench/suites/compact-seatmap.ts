/**
 * The compact seat map at the design's size: a 50,000-seat event part-way
 * through a sale, its packed statuses and layout on the wire in each coding,
 * and request rates for statuses and for the 304s a CDN or browser gets while
 * nothing changed, each next to GET /healthz measured right beside it.
 *
 * The mid-sale pattern is written through SeatCache.apply (the path every
 * committed change takes into Redis) with versions from the database's
 * sequence; the bench event's seats in Postgres stay available, so a cache
 * rebuild would put it back to an empty map.
 */
import { createPool } from '../../db/pool';
import type { SeatChange } from '../../domain/seats';
import type { Config } from '../../platform/config';
import { createRedis } from '../../platform/redis';
import { SeatCache } from '../../services/seat-cache';
import type { HttpClient } from '../lib/http';
import type { LoadResult } from '../lib/load';
import { benchGet, type HttpOptions, wireBytes } from './http';

export interface CompactSeatMapFigures {
  eventId: string;
  seats: number;
  changedShare: number;
  statusBytes: Record<string, number>;
  fullBytes: Record<string, number>;
  layoutBytes: Record<string, number>;
  healthz: LoadResult;
  status: LoadResult;
  status304: LoadResult;
  layout304: LoadResult;
}

const CODINGS: Record<string, string> = { identity: 'identity', gzip: 'gzip', br: 'br' };

/**
 * A 50,000-seat event part-way through its sale (30% sold, 5% held, in a fixed
 * pseudo-random pattern), past the API's status freshness window.
 */
export async function midSaleEvent(
  http: HttpClient,
  config: Config,
  progress: (t: string) => void,
): Promise<{ eventId: string; seats: number; changed: number }> {
  const sections = Array.from({ length: 10 }, (_, i) => ({
    id: `S${i + 1}`,
    name: `Section ${i + 1}`,
    rows: 50,
    seatsPerRow: 100,
    priceCents: 9000,
  }));
  const created = await http.json('POST', '/v1/admin/events', {
    token: config.ADMIN_TOKEN,
    body: { name: 'bench compact seat map', waitingRoom: { enabled: false }, sections },
  });
  if (created.status !== 201) throw new Error(`creating the 50,000-seat event failed: ${created.status}`);
  const eventId: string = created.body.eventId;
  const seats = created.body.seatCount as number;
  await http.json('POST', `/v1/admin/events/${eventId}/open`, { token: config.ADMIN_TOKEN });
  await http.request('GET', `/v1/events/${eventId}/seats/status`, { raw: true }); // builds the cache

  // Part-way through the sale: 30% sold and 5% held, in a fixed pseudo-random pattern.
  progress('compact seat map: writing a mid-sale pattern');
  const pool = createPool(config.DATABASE_URL, { max: 1, application_name: 'onsale-bench' });
  const redis = createRedis(config.REDIS_URL, 'onsale-bench');
  const cache = new SeatCache(redis, pool);
  let changed: number;
  try {
    const ids = sections.flatMap((s) =>
      Array.from({ length: s.rows * s.seatsPerRow }, (_, i) => `${s.id}-${Math.floor(i / s.seatsPerRow) + 1}-${(i % s.seatsPerRow) + 1}`),
    );
    let x = 20261128;
    const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const picks = ids.map((seatId) => ({ seatId, r: rand() })).filter((p) => p.r < 0.35);
    const { rows } = await pool.query<{ v: string }>(`SELECT nextval('seat_version_seq')::text AS v FROM generate_series(1, $1)`, [
      picks.length,
    ]);
    const changes: SeatChange[] = picks.map((p, i) => ({
      seatId: p.seatId,
      status: p.r < 0.3 ? 'sold' : 'held',
      version: Number(rows[i]!.v),
    }));
    for (let i = 0; i < changes.length; i += 2000) await cache.apply(eventId, changes.slice(i, i + 2000));
    changed = changes.length;
  } finally {
    await Promise.allSettled([pool.end(), redis.quit()]);
  }
  await new Promise((r) => setTimeout(r, 600)); // past the API's status freshness window
  return { eventId, seats, changed };
}

export async function benchCompactSeatMap(
  http: HttpClient,
  config: Config,
  o: HttpOptions,
  progress: (t: string) => void,
): Promise<CompactSeatMapFigures> {
  const { eventId, seats, changed } = await midSaleEvent(http, config, progress);
  const path = `/v1/events/${eventId}`;
  const statusBytes: Record<string, number> = {};
  const fullBytes: Record<string, number> = {};
  const layoutBytes: Record<string, number> = {};
  for (const [name, coding] of Object.entries(CODINGS)) {
    const headers = { 'accept-encoding': coding };
    statusBytes[name] = (await wireBytes(http, `${path}/seats/status`, headers)).bytes;
    layoutBytes[name] = (await wireBytes(http, `${path}/seatmap`, headers)).bytes;
    progress(`compact seat map: GET /seats (${name}) for comparison`);
    fullBytes[name] = (await wireBytes(http, `${path}/seats`, headers)).bytes;
  }
  const statusTag = (await wireBytes(http, `${path}/seats/status`)).etag;
  const layoutTag = (await wireBytes(http, `${path}/seatmap`)).etag;

  const gz = { 'accept-encoding': 'gzip, deflate, br;q=0' };
  const healthz = await benchGet(http, '/healthz', o, progress, 'healthz (beside the seat map)', { headers: gz });
  const status = await benchGet(http, `${path}/seats/status`, o, progress, 'seat statuses', { headers: gz });
  const status304 = await benchGet(http, `${path}/seats/status`, o, progress, 'seat statuses 304', {
    headers: { ...gz, 'if-none-match': statusTag },
    expect: 304,
  });
  const layout304 = await benchGet(http, `${path}/seatmap`, o, progress, 'seat map 304', {
    headers: { ...gz, 'if-none-match': layoutTag },
    expect: 304,
  });
  return {
    eventId,
    seats,
    changedShare: Math.round((changed / seats) * 100),
    statusBytes,
    fullBytes,
    layoutBytes,
    healthz,
    status,
    status304,
    layout304,
  };
}
