/**
 * Seat holds under contention, straight against Postgres: onsale's reserve
 * query (conditional UPDATE over FOR UPDATE SKIP LOCKED, all-or-nothing)
 * against two textbook alternatives on the same database, the same seat map
 * and the same sequence of requests:
 *   - naive: SELECT ... FOR UPDATE the wanted seats, check, UPDATE;
 *   - optimistic: read seats and their version without locks, then UPDATE
 *     ... WHERE version = the version read, retrying on a lost race.
 * A fourth row, onsale-core, runs only the statement at the heart of
 * reserveSeats (the SKIP LOCKED conditional update) without the checks around
 * it (event state, per-buyer limit, unknown seats), to show what each costs.
 * A fifth, onsale-gated, is the production path's seat-taking: the claim gate's
 * Lua call in Redis first, and only for a claim that won the reserve (with the
 * seat cache and the gate told of the hold, as the API does); it runs when a
 * Redis URL is given, and its CPU includes the Redis server's.
 * Every strategy records its holds in `holds` as onsale does, so the database
 * audit holds after each of them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Redis from 'ioredis';
import type { Pool, PoolClient } from 'pg';
import { createPool, withClient, withTransaction } from '../../db/pool';
import { reserveSeats } from '../../db/queries/seats';
import { DomainError } from '../../domain/errors';
import { seedEvent } from '../../harness/seed';
import { createLogger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import { SeatCache } from '../../services/seat-cache';
import { SeatClaims } from '../../services/seat-claims';
import { SeatHolds } from '../../services/seat-holds';
import { type LoadResult, runLoad } from '../lib/load';
import { rng } from '../lib/stats';

export interface HoldsOptions {
  rows: number;
  seatsPerRow: number;
  attempts: number;
  concurrency: number;
  durationMs: number;
  seed: number;
  /**
   * spread: 1–4 adjacent seats skewed to the front rows and the centre, arriving
   * in random order. flash: the on-sale's first seconds, `contention` buyers for
   * every seat arriving together, the best seats first, one seat each.
   */
  workload?: 'spread' | 'flash';
  contention?: number;
}

type Strategy = 'onsale' | 'onsale-core' | 'naive' | 'optimistic' | 'onsale-gated';
type Attempt = (client: PoolClient, eventId: string, holdId: string, buyerId: string, seatIds: string[]) => Promise<'held' | 'rejected'>;

const HOLD_SECONDS = 330;
const FREE = `(status = 'available' OR (status = 'held' AND hold_expires_at < now()))`;
const OPTIMISTIC_TRIES = 5;

async function recordHold(client: PoolClient, eventId: string, holdId: string, buyerId: string, seatIds: string[]) {
  await client.query(
    `INSERT INTO holds (id, event_id, buyer_id, checkout_id, seat_ids, amount_cents, expires_at)
     SELECT $1, $2, $3, $4, $5::text[], sum(price_cents), now() + make_interval(secs => $6)
       FROM seats WHERE event_id = $2 AND seat_id = ANY($5::text[])`,
    [holdId, eventId, buyerId, `bench:${holdId}`, [...seatIds].sort(), HOLD_SECONDS],
  );
}

const TAKE = `status = 'held', hold_id = $3, holder = $4, hold_expires_at = now() + make_interval(secs => ${HOLD_SECONDS}),
              version = nextval('seat_version_seq')`;

/** onsale's reserve: one call of reserve_hold(), one round trip, its own transaction. */
const onsale: Attempt = async (client, eventId, holdId, buyerId, seatIds) => {
  try {
    await reserveSeats(client, {
      holdId,
      eventId,
      buyerId,
      checkoutId: `bench:${holdId}`,
      request: { kind: 'seats', seatIds },
      graceSeconds: 30,
    });
    return 'held';
  } catch (err) {
    if (err instanceof DomainError && err.code === 'SEATS_UNAVAILABLE') return 'rejected';
    throw err;
  }
};

/** The take statement of db/queries/seats.ts on its own, with the same hold record as the baselines. */
const onsaleCore: Attempt = async (client, eventId, holdId, buyerId, seatIds) => {
  await client.query('BEGIN');
  try {
    const { rowCount } = await client.query(
      `WITH target AS (
         SELECT seat_id FROM seats WHERE event_id = $1 AND seat_id = ANY($2::text[]) AND ${FREE}
          ORDER BY seat_id FOR UPDATE SKIP LOCKED)
       UPDATE seats s SET ${TAKE} FROM target WHERE s.event_id = $1 AND s.seat_id = target.seat_id`,
      [eventId, seatIds, holdId, buyerId],
    );
    if (rowCount !== seatIds.length) {
      await client.query('ROLLBACK');
      return 'rejected';
    }
    await recordHold(client, eventId, holdId, buyerId, seatIds);
    await client.query('COMMIT');
    return 'held';
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
};

const naive: Attempt = async (client, eventId, holdId, buyerId, seatIds) => {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ free: boolean }>(
      `SELECT ${FREE} AS free FROM seats WHERE event_id = $1 AND seat_id = ANY($2::text[]) ORDER BY seat_id FOR UPDATE`,
      [eventId, seatIds],
    );
    if (rows.length !== seatIds.length || rows.some((r) => !r.free)) {
      await client.query('ROLLBACK');
      return 'rejected';
    }
    await client.query(`UPDATE seats SET ${TAKE} WHERE event_id = $1 AND seat_id = ANY($2::text[])`, [eventId, seatIds, holdId, buyerId]);
    await recordHold(client, eventId, holdId, buyerId, seatIds);
    await client.query('COMMIT');
    return 'held';
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
};

/** Counts the lost races of the optimistic strategy (each one a wasted round trip and transaction). */
export const optimisticRetries = { count: 0 };

const optimistic: Attempt = async (client, eventId, holdId, buyerId, seatIds) => {
  for (let attempt = 0; attempt < OPTIMISTIC_TRIES; attempt++) {
    const { rows } = await client.query<{ seat_id: string; version: string; free: boolean }>(
      `SELECT seat_id, version, ${FREE} AS free FROM seats WHERE event_id = $1 AND seat_id = ANY($2::text[])`,
      [eventId, seatIds],
    );
    if (rows.length !== seatIds.length || rows.some((r) => !r.free)) return 'rejected';
    await client.query('BEGIN');
    try {
      const updated = await client.query(
        `UPDATE seats s SET ${TAKE}
           FROM unnest($2::text[], $5::bigint[]) AS v(seat_id, version)
          WHERE s.event_id = $1 AND s.seat_id = v.seat_id AND s.version = v.version`,
        [eventId, rows.map((r) => r.seat_id), holdId, buyerId, rows.map((r) => r.version)],
      );
      if (updated.rowCount !== seatIds.length) {
        await client.query('ROLLBACK');
        optimisticRetries.count++;
        continue;
      }
      await recordHold(client, eventId, holdId, buyerId, seatIds);
      await client.query('COMMIT');
      return 'held';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
  return 'rejected';
};

const STRATEGIES: Record<Exclude<Strategy, 'onsale-gated'>, Attempt> = { onsale, 'onsale-core': onsaleCore, naive, optimistic };

/** The claim gate and the reserve behind it, on their own connections (a losing attempt takes no Postgres connection). */
interface Gate {
  claims: SeatClaims;
  holds: SeatHolds;
  redis: Redis;
  redisPid: number;
}

const GATE_LIMIT = { limit: 1_000_000, windowMs: 10_000 };

/** The production path's seat-taking: Redis answers a losing attempt; a winning claim is reserved in Postgres. */
async function gated(gate: Gate, eventId: string, holdId: string, buyerId: string, seatIds: string[]): Promise<'held' | 'rejected'> {
  const request = { kind: 'seats' as const, seatIds };
  const claim = await gate.claims.claim(eventId, holdId, request, HOLD_SECONDS * 1000, { buyerId, limit: GATE_LIMIT });
  if (claim.kind !== 'claimed' && claim.kind !== 'pass') return 'rejected';
  try {
    await gate.holds.reserve({ holdId, eventId, buyerId, checkoutId: `bench:${holdId}`, request });
    return 'held';
  } catch (err) {
    if (claim.kind === 'claimed') await gate.claims.drop(eventId, holdId);
    if (err instanceof DomainError && err.code === 'SEATS_UNAVAILABLE') return 'rejected';
    throw err;
  }
}

async function openGate(pool: Pool, redisUrl: string): Promise<Gate> {
  const redis = createRedis(redisUrl, 'onsale-bench-holds');
  const logger = createLogger('bench', 'warn');
  const claims = new SeatClaims(redis, pool, logger);
  const holds = new SeatHolds({ pool, logger, seatCache: new SeatCache(redis, pool, logger), seatClaims: claims, graceSeconds: 30 });
  const info = await redis.info('server');
  const redisPid = Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
  return { claims, holds, redis, redisPid };
}

/** The same request sequence for every strategy: 1–4 adjacent seats, skewed to the front rows and the centre. */
export function holdRequests(o: Pick<HoldsOptions, 'rows' | 'seatsPerRow' | 'attempts' | 'seed'>, section = 'A'): string[][] {
  const random = rng(o.seed);
  return Array.from({ length: o.attempts }, () => {
    const q = [1, 2, 2, 2, 3, 4, 4][Math.floor(random() * 7)]!;
    const row = 1 + Math.floor(Math.pow(random(), 2.5) * o.rows);
    const centre = (o.seatsPerRow - q) / 2;
    const spread = (random() - 0.5) * (o.seatsPerRow - q) * Math.pow(random(), 1.5);
    const first = 1 + Math.max(0, Math.min(o.seatsPerRow - q, Math.round(centre + spread)));
    return Array.from({ length: q }, (_, i) => `${section}-${row}-${first + i}`);
  });
}

/**
 * The flash crowd: the best seats first (front rows, nearest the centre), each
 * wanted by `contention` buyers whose attempts arrive one after another, so
 * that with many connections in flight they overlap on the same rows.
 */
export function flashRequests(o: Pick<HoldsOptions, 'rows' | 'seatsPerRow' | 'attempts' | 'contention'>, section = 'A'): string[][] {
  const contention = o.contention ?? 10;
  const centre = (o.seatsPerRow + 1) / 2;
  const seats: string[] = [];
  for (let row = 1; row <= o.rows; row++) {
    const byCentre = Array.from({ length: o.seatsPerRow }, (_, i) => i + 1).sort(
      (a, b) => Math.abs(a - centre) - Math.abs(b - centre) || a - b,
    );
    for (const n of byCentre) seats.push(`${section}-${row}-${n}`);
  }
  const wanted = Math.min(seats.length, Math.ceil(o.attempts / contention));
  return seats.slice(0, wanted).flatMap((seat) => Array.from({ length: contention }, () => [seat]));
}

export interface HoldsFigure {
  strategy: Strategy;
  holdsPerSecond: number;
  rejectedPerSecond: number;
  attemptsPerSecond: number;
  errors: number;
  seatsHeld: number;
  retries?: number;
  /** CPU microseconds per attempt: the pool's Postgres backends, this process (the client side), the Redis server. */
  cpuMicrosPerAttempt: { postgres: number; client: number; redis: number };
  load: LoadResult;
}

/** CPU time (ns) each process has run, from /proc/<pid>/schedstat: nanosecond resolution, unlike /proc/<pid>/stat. */
function cpuNanos(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return 0;
  }
}

/** The CPU of this pool's backends (by application name), of this process and of the Redis server, since their start. */
async function cpuOf(
  pool: Pool,
  applicationName: string,
  redisPid: number,
): Promise<{ postgres: Map<number, number>; client: number; redis: number }> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  const postgres = new Map(rows.map((r) => [r.pid, cpuNanos(r.pid)]));
  const u = process.cpuUsage();
  return { postgres, client: (u.user + u.system) * 1000, redis: redisPid ? cpuNanos(redisPid) : 0 };
}

/** CPU ns between two snapshots; a backend that appeared meanwhile counts from zero. */
function cpuSpent(before: Awaited<ReturnType<typeof cpuOf>>, after: Awaited<ReturnType<typeof cpuOf>>) {
  let postgres = 0;
  for (const [pid, ns] of after.postgres) postgres += ns - (before.postgres.get(pid) ?? 0);
  return { postgres, client: after.client - before.client, redis: after.redis - before.redis };
}

async function releaseBenchHolds(pool: Pool, eventId: string): Promise<void> {
  // Returns the bench's seats to sale so the shared database keeps no long-lived bench holds.
  await withTransaction(pool, async (c) => {
    await c.query(`UPDATE holds SET status = 'released', ended_at = now() WHERE event_id = $1 AND status = 'active'`, [eventId]);
    await c.query(
      `UPDATE seats SET status = 'available', hold_id = NULL, holder = NULL, hold_expires_at = NULL,
              version = nextval('seat_version_seq') WHERE event_id = $1 AND status = 'held'`,
      [eventId],
    );
    await c.query(`UPDATE events SET state = 'closed' WHERE id = $1`, [eventId]);
  });
}

export async function benchHolds(
  databaseUrl: string,
  o: HoldsOptions,
  onProgress: (text: string) => void = () => undefined,
  redisUrl?: string,
): Promise<HoldsFigure[]> {
  // Its own application name: the CPU of exactly these backends is read per strategy.
  const applicationName = `onsale-bench-holds-${process.pid}`;
  const pool = createPool(databaseUrl, { max: o.concurrency, application_name: applicationName });
  const gate = redisUrl ? await openGate(pool, redisUrl) : undefined;
  const requests = o.workload === 'flash' ? flashRequests(o) : holdRequests(o);
  const figures: HoldsFigure[] = [];
  const strategies = [...(Object.keys(STRATEGIES) as Strategy[]), ...(gate ? (['onsale-gated'] as const) : [])];
  const run = (strategy: Strategy, eventId: string, holdId: string, buyerId: string, seatIds: string[]) =>
    strategy === 'onsale-gated'
      ? gated(gate!, eventId, holdId, buyerId, seatIds)
      : withClient(pool, (client) => STRATEGIES[strategy](client, eventId, holdId, buyerId, seatIds));
  const redisPid = gate?.redisPid ?? 0;
  // Alternating: the sequence is cut into slices and every strategy runs each slice in turn, on its own
  // copy of the seat map, so a change in the machine's load falls on all of them alike.
  const SLICES = 8;
  const per = Math.ceil(requests.length / SLICES);
  const events = new Map<Strategy, string>();
  const parts = new Map<Strategy, LoadResult[]>();
  const cpu = new Map<Strategy, { postgres: number; client: number; redis: number }>(
    strategies.map((st) => [st, { postgres: 0, client: 0, redis: 0 }]),
  );
  try {
    for (const strategy of strategies) {
      events.set(
        strategy,
        await seedEvent(pool, {
          name: `bench holds ${strategy} (${o.workload ?? 'spread'})`,
          holdSeconds: 300,
          maxSeatsPerBuyer: 6,
          sections: [{ id: 'A', name: 'Floor', rows: o.rows, seatsPerRow: o.seatsPerRow, priceCents: 9900 }],
        }),
      );
      parts.set(strategy, []);
    }
    const buyerTag = randomBytes(6).toString('hex');
    // Warm-up, not measured: every pooled connection runs each strategy a few times first, so that
    // no strategy pays for the connection's first plans (PL/pgSQL plans its statements on first use).
    for (const strategy of strategies) {
      const warm = await seedEvent(pool, {
        name: `bench holds warm-up ${strategy}`,
        holdSeconds: 300,
        maxSeatsPerBuyer: 6,
        sections: [{ id: 'A', name: 'Floor', rows: o.rows, seatsPerRow: o.seatsPerRow, priceCents: 9900 }],
      });
      const n = Math.min(requests.length, o.concurrency * 6);
      await runLoad({
        concurrency: o.concurrency,
        durationMs: o.durationMs,
        maxOps: n,
        op: (_loop, seq) => run(strategy, warm, `hold_w${buyerTag}${strategy}${seq}`, `byr_warm${buyerTag}${seq}`, requests[seq]!),
        onTick: () => onProgress(`${o.workload ?? 'spread'}, ${strategy}: warm-up`),
      });
      await releaseBenchHolds(pool, warm);
    }
    optimisticRetries.count = 0;
    for (let slice = 0; slice < SLICES; slice++) {
      const from = slice * per;
      const to = Math.min(requests.length, from + per);
      // Each slice starts with the next strategy, so none always runs first (or right after another).
      for (let k = 0; k < strategies.length; k++) {
        const strategy = strategies[(k + slice) % strategies.length]!;
        const eventId = events.get(strategy)!;
        const cpuBefore = await cpuOf(pool, applicationName, redisPid);
        parts.get(strategy)!.push(
          await runLoad({
            concurrency: o.concurrency,
            durationMs: o.durationMs / SLICES,
            maxOps: to - from,
            op: (_loop, seq) =>
              run(
                strategy,
                eventId,
                `hold_b${buyerTag}${strategy}${from + seq}`,
                `byr_bench${buyerTag}${from + seq}`,
                requests[from + seq]!,
              ),
            onTick: (n) => onProgress(`${o.workload ?? 'spread'}, ${strategy}: slice ${slice + 1}/${SLICES}, ${n} attempts`),
          }),
        );
        const spent = cpuSpent(cpuBefore, await cpuOf(pool, applicationName, redisPid));
        const total = cpu.get(strategy)!;
        total.postgres += spent.postgres;
        total.client += spent.client;
        total.redis += spent.redis;
      }
    }
    for (const strategy of strategies) {
      const eventId = events.get(strategy)!;
      const load = mergeLoads(parts.get(strategy)!);
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM seats WHERE event_id = $1 AND status = 'held'`, [
        eventId,
      ]);
      figures.push({
        strategy,
        holdsPerSecond: load.rates.held ?? 0,
        rejectedPerSecond: load.rates.rejected ?? 0,
        attemptsPerSecond: Math.round(((load.outcomes.held ?? 0) + (load.outcomes.rejected ?? 0)) / load.seconds),
        errors: load.outcomes.error ?? 0,
        seatsHeld: Number(rows[0]!.n),
        ...(strategy === 'optimistic' && { retries: optimisticRetries.count }),
        cpuMicrosPerAttempt: (() => {
          const n = Math.max(1, (load.outcomes.held ?? 0) + (load.outcomes.rejected ?? 0));
          const c = cpu.get(strategy)!;
          const us = (ns: number) => Math.round(ns / n / 100) / 10;
          return { postgres: us(c.postgres), client: us(c.client), redis: us(c.redis) };
        })(),
        load,
      });
      await releaseBenchHolds(pool, eventId);
    }
  } finally {
    await gate?.redis.quit();
    await pool.end();
  }
  return figures;
}

/** One result from a strategy's slices: counts and time add up; latency is the slices' worst. */
function mergeLoads(parts: LoadResult[]): LoadResult {
  const outcomes: Record<string, number> = {};
  let seconds = 0;
  for (const p of parts) {
    seconds += p.seconds;
    for (const [k, n] of Object.entries(p.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
  }
  const rates = Object.fromEntries(Object.entries(outcomes).map(([k, n]) => [k, Math.round((n / seconds) * 10) / 10]));
  const worst = (pick: (p: LoadResult) => LoadResult['latency'] | undefined) =>
    parts.map(pick).reduce<LoadResult['latency'] | undefined>((a, b) => (!a ? b : b && b.p99 > a.p99 ? b : a), undefined);
  const latencyByOutcome: LoadResult['latencyByOutcome'] = {};
  for (const k of Object.keys(outcomes)) {
    const l = worst((p) => p.latencyByOutcome[k]);
    if (l) latencyByOutcome[k] = l;
  }
  return { outcomes, seconds, rates, latency: worst((p) => p.latency)!, latencyByOutcome, timeline: {} };
}
