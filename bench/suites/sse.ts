/**
 * Seat-map fan-out: many open SSE streams on one event, seat changes
 * committed in Postgres and published the way the worker's activities
 * publish them (SeatCache.apply), and the time until each stream has the
 * change in hand.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { createPool, withTransaction } from '../../db/pool';
import { releaseHold, reserveSeats } from '../../db/queries/seats';
import { createRedis } from '../../platform/redis';
import { SeatCache } from '../../services/seat-cache';
import { type LatencySummary, summarize } from '../lib/stats';

export interface SseOptions {
  streams: number;
  changes: number;
  intervalMs: number;
}

export interface SseFigures {
  streams: number;
  connected: number;
  changes: number;
  deliveries: number;
  expectedDeliveries: number;
  latency: LatencySummary;
}

function openStream(base: string, path: string, onFrame: (event: string, data: string) => void): Promise<http.ClientRequest> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port, path, headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`stream answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          onFrame(event, data);
        }
      });
      res.on('error', () => undefined);
      resolve(req);
    });
    req.on('error', reject);
  });
}

export async function benchSse(
  base: string,
  eventId: string,
  config: { DATABASE_URL: string; REDIS_URL: string },
  o: SseOptions,
  progress: (t: string) => void,
): Promise<SseFigures> {
  const pool = createPool(config.DATABASE_URL, { max: 2, application_name: 'onsale-bench' });
  const redis = createRedis(config.REDIS_URL, 'onsale-bench');
  const cache = new SeatCache(redis, pool);
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const streams: http.ClientRequest[] = [];
  let snapshots = 0;
  try {
    for (let i = 0; i < o.streams; i++) {
      try {
        streams.push(
          await openStream(base, `/v1/events/${eventId}/seats/stream`, (event, data) => {
            if (event === 'snapshot') snapshots++;
            if (event !== 'changes') return;
            const now = performance.now();
            // Changes of one window arrive as one frame: each change it carries counts once.
            const frame = JSON.parse(data) as { changes: [string, string, number][] };
            for (const [, , version] of frame.changes) {
              const t0 = sentAt.get(version);
              if (t0 !== undefined) latencies.push(now - t0);
            }
          }),
        );
      } catch {
        // counted as not connected
      }
      if (i % 50 === 0) progress(`SSE: ${i}/${o.streams} streams open`);
    }
    const until = Date.now() + 10_000;
    while (snapshots < streams.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));

    const tag = randomBytes(5).toString('hex');
    for (let i = 0; i < o.changes; i++) {
      const holdId = `hold_bsse${tag}${i}`;
      const { changes } = await withTransaction(pool, (c) =>
        reserveSeats(c, {
          holdId,
          eventId,
          buyerId: `byr_bsse${tag}${i}`,
          checkoutId: `bench:${holdId}`,
          request: { kind: 'best', quantity: 1 },
          graceSeconds: 0,
        }),
      );
      const version = Math.max(...changes.map((c) => c.version));
      sentAt.set(version, performance.now());
      await cache.apply(eventId, changes);
      // Return the seat at once, so the bench leaves the event as it found it.
      const back = await withTransaction(pool, (c) => releaseHold(c, holdId, 'released'));
      await cache.apply(eventId, back);
      progress(`SSE: change ${i + 1}/${o.changes} to ${streams.length} streams`);
      await new Promise((r) => setTimeout(r, o.intervalMs));
    }
    await new Promise((r) => setTimeout(r, 1000));
    return {
      streams: o.streams,
      connected: streams.length,
      changes: o.changes,
      deliveries: latencies.length,
      expectedDeliveries: streams.length * o.changes,
      latency: summarize(latencies),
    };
  } finally {
    streams.forEach((s) => s.destroy());
    await Promise.allSettled([pool.end(), redis.quit()]);
  }
}
