/**
 * The claim gate: Redis's own view of which seats are taken, so that the nine
 * in ten hold attempts that lose a flash crowd are answered by one Lua call,
 * without Temporal or Postgres.
 *
 * A claim takes every requested seat or none, for the hold window plus the
 * payment grace, owned by a claim id (the hold id the API then gives the
 * checkout, so Redis, the workflow and Postgres name the hold alike). A best
 * available request is answered from the same view with the adjacency rules of
 * the database's reserve (db/migrations/0003, domain/seating.ts): one row,
 * adjacent seats, no single-seat gap left where avoidable, section rank, rows
 * front to back, nearest the centre; scattered seats when no block fits.
 *
 * Claims end on release and expiry (the checkout's activities drop them; an
 * expired claim is swept lazily by the next call), on failure (the API drops a
 * claim the database refused) and on sale (sold seats stay taken).
 *
 * Redis may only be wrong towards "free": after a flush or failover the keys
 * are gone, requests pass through to Postgres (the truth, which refuses what
 * is taken) while one caller rebuilds the gate from Postgres. The rebuild
 * replaces the state in one MULTI, so no reader sees half of it.
 *
 * This module owns the gate's Redis format; every key carries the event's hash
 * tag so a Redis Cluster keeps an event's gate on one slot and a script can
 * touch all of it.
 */
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import type { Pool } from 'pg';
import { loadClaimState } from '../db/queries/seats';
import type { HoldRequest } from '../domain/checkout';
import type { Logger } from '../platform/logger';
import { eventRateKey, type Limit, RATE_HIT_LUA } from './rate-limit';

export const claimKeys = (eventId: string) => ({
  seats: `claim:{${eventId}}:seats`,
  expiry: `claim:{${eventId}}:exp`,
  holds: `claim:{${eventId}}:holds`,
  free: `claim:{${eventId}}:free`,
  rows: `claim:{${eventId}}:rows`,
  sections: `claim:{${eventId}}:sections`,
  ready: `claim:{${eventId}}:ready`,
  rebuilding: `claim:{${eventId}}:rebuilding`,
});

const keyList = (eventId: string) => {
  const k = claimKeys(eventId);
  return [k.seats, k.expiry, k.holds, k.free, k.rows, k.sections, k.ready];
};

/**
 * Shared by every script: KEYS = seats, expiry, holds, free, rows, sections, ready.
 * The free hash counts free seats per row (`sec-row`) and, under `*`, in the
 * whole event; a gate built before the total existed has no `*` and keeps none.
 */
const PRELUDE = `
local function count_free(rk, delta)
  if rk then redis.call('HINCRBY', KEYS[4], rk, delta) end
  if redis.call('HEXISTS', KEYS[4], '*') == 1 then redis.call('HINCRBY', KEYS[4], '*', delta) end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function parse(seat)
  local sec, row, n = string.match(seat, '^(.+)%-(%d+)%-(%d+)$')
  if not sec then return nil end
  return sec, tonumber(row), tonumber(n)
end
local function rowkey(seat)
  local sec, row = parse(seat)
  if not sec then return nil end
  return sec .. '-' .. row
end
local function drop(hold)
  local list = redis.call('HGET', KEYS[3], hold)
  if list then
    for seat in string.gmatch(list, '[^,]+') do
      if redis.call('HGET', KEYS[1], seat) == hold then
        redis.call('HDEL', KEYS[1], seat)
        count_free(rowkey(seat), 1)
      end
    end
    redis.call('HDEL', KEYS[3], hold)
  end
  redis.call('ZREM', KEYS[2], hold)
end
local function sweep(now)
  local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 200)
  for _, h in ipairs(due) do drop(h) end
end
local function take(hold, ttl, now, seats)
  for _, seat in ipairs(seats) do
    if not redis.call('HGET', KEYS[1], seat) then
      redis.call('HSET', KEYS[1], seat, hold)
      count_free(rowkey(seat), -1)
    end
  end
  redis.call('HSET', KEYS[3], hold, table.concat(seats, ','))
  redis.call('ZADD', KEYS[2], now + ttl, hold)
  local out = {'claimed'}
  for _, s in ipairs(seats) do out[#out + 1] = s end
  return out
end
`;

/**
 * The buyer's attempt counted against their limit, in the same call as the
 * claim: KEYS[8] is the buyer's counter on the event's slot, ARGV[3] and
 * ARGV[4] the limit and its window (a limit of 0 counts nothing). Over the
 * limit → {'limited', ms left}.
 */
const LIMITED = `${RATE_HIT_LUA}
if ARGV[3] ~= '0' then
  local wait = rate_hit(KEYS[8], tonumber(ARGV[3]), tonumber(ARGV[4]))
  if wait > 0 then return {'limited', tostring(wait)} end
end
`;

/**
 * ARGV: hold id, ttl ms, limit, window ms, seat ids... →
 * {'claimed', seats...} | {'taken', seats...} | {'unknown', seats...} | {'pass'} | {'limited', ms}
 */
const CLAIM_SEATS = `${PRELUDE}${LIMITED}
if redis.call('EXISTS', KEYS[7]) == 0 then return {'pass'} end
local hold, ttl = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
sweep(now)
local seats, unknown, taken = {}, {'unknown'}, {'taken'}
for i = 5, #ARGV do
  local seat = ARGV[i]
  seats[#seats + 1] = seat
  local sec, row, n = parse(seat)
  local dims = sec and redis.call('HGET', KEYS[6], sec)
  local rows, width = nil, nil
  if dims then rows, width = string.match(dims, '^(%d+),(%d+)') end
  if not dims or row < 1 or n < 1 or row > tonumber(rows) or n > tonumber(width) then
    unknown[#unknown + 1] = seat
  else
    local cur = redis.call('HGET', KEYS[1], seat)
    if cur and cur ~= hold then taken[#taken + 1] = seat end
  end
end
if #unknown > 1 then return unknown end
if #taken > 1 then return taken end
return take(hold, ttl, now, seats)
`;

/**
 * ARGV: hold id, ttl ms, limit, window ms, quantity, section ('' for any) →
 * {'claimed', seats...} | {'none'} | {'unknown_section'} | {'pass'} | {'limited', ms}
 */
const CLAIM_BEST = `${PRELUDE}${LIMITED}
if redis.call('EXISTS', KEYS[7]) == 0 then return {'pass'} end
local hold, ttl, q, section = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[5]), ARGV[6]
if section ~= '' and redis.call('HEXISTS', KEYS[6], section) == 0 then return {'unknown_section'} end
local now = now_ms()
sweep(now)
-- Sold out (or fewer free seats than wanted): answered without looking at a single row.
local total = tonumber(redis.call('HGET', KEYS[4], '*'))
if total and total < q then return {'none'} end
local rows = cjson.decode(redis.call('GET', KEYS[5]))
local flat = redis.call('HGETALL', KEYS[4])
local free = {}
for i = 1, #flat, 2 do free[flat[i]] = tonumber(flat[i + 1]) end
local fallback = nil
local scattered = {}
local function row_seats(sec, row, width)
  local ids = {}
  for n = 1, width do ids[n] = sec .. '-' .. row .. '-' .. n end
  return ids, redis.call('HMGET', KEYS[1], unpack(ids))
end
for _, r in ipairs(rows) do
  local sec, row, width = r[1], r[2], r[3]
  if section == '' or sec == section then
    local f = free[sec .. '-' .. row] or 0
    if f > 0 and (f >= q or #scattered < q) then
      local ids, vals = row_seats(sec, row, width)
      local best = nil
      local lo = nil
      for n = 1, width + 1 do
        local isfree = n <= width and not vals[n]
        if isfree then
          if #scattered < q then scattered[#scattered + 1] = ids[n] end
          if not lo then lo = n end
        elseif lo then
          local hi = n - 1
          if hi - lo + 1 >= q then
            local forced = (hi - lo + 1 - q == 1) and 1 or 0
            local dist = math.abs((lo + hi) / 2 - (width + 1) / 2)
            if not best or forced < best.forced or (forced == best.forced and dist < best.dist) then
              best = { lo = lo, hi = hi, forced = forced, dist = dist }
            end
          end
          lo = nil
        end
      end
      if best then
        -- chooseBlock: fewest single-seat gaps, then nearest the centre, then the lowest start.
        local pick, po, pd = nil, nil, nil
        for s = best.lo, best.hi - q + 1 do
          local orphans = ((s - best.lo == 1) and 1 or 0) + ((best.hi - (s + q - 1) == 1) and 1 or 0)
          local d = math.abs(s + (q - 1) / 2 - (width + 1) / 2)
          if not pick or orphans < po or (orphans == po and d < pd) then pick, po, pd = s, orphans, d end
        end
        local block = {}
        for n = pick, pick + q - 1 do block[#block + 1] = ids[n] end
        if best.forced == 0 then return take(hold, ttl, now, block) end
        if not fallback then fallback = block end
      end
    end
  end
end
if fallback then return take(hold, ttl, now, fallback) end
if #scattered >= q then return take(hold, ttl, now, scattered) end
return {'none'}
`;

/** ARGV: hold id. Gives the claim's seats back (those it still owns). */
const DROP = `${PRELUDE}
drop(ARGV[1])
return 1
`;

/** ARGV: hold id, seat ids...: the seats are sold and stay taken; the claim ends. */
const SOLD = `${PRELUDE}
for i = 2, #ARGV do
  local seat = ARGV[i]
  local cur = redis.call('HGET', KEYS[1], seat)
  if not cur then count_free(rowkey(seat), -1) end
  redis.call('HSET', KEYS[1], seat, '!')
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

/** Live claims (after sweeping the expired ones), or -1 when the gate is not built. */
const ACTIVE = `${PRELUDE}
if redis.call('EXISTS', KEYS[7]) == 0 then return -1 end
local now = now_ms()
sweep(now)
return redis.call('ZCARD', KEYS[2])
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    claimSeats(...args: (string | number)[]): Result<string[], Context>;
    claimBest(...args: (string | number)[]): Result<string[], Context>;
    dropClaim(...args: (string | number)[]): Result<number, Context>;
    claimSold(...args: (string | number)[]): Result<number, Context>;
    activeClaims(...args: (string | number)[]): Result<number, Context>;
  }
}

const withCommands = new WeakSet<Redis>();

/** Whose attempt a claim is, and the attempts that buyer may make on the event per window. */
export interface BuyerLimit {
  buyerId: string;
  limit: Limit;
}

export type ClaimOutcome =
  | { kind: 'claimed'; seatIds: string[] }
  | { kind: 'taken'; seatIds: string[] }
  | { kind: 'unknown'; seatIds: string[] }
  | { kind: 'unknown_section' }
  | { kind: 'none' }
  /** The buyer is over their hold-attempt limit: retry after this long. */
  | { kind: 'limited'; retryAfterMs: number }
  /** The gate cannot answer (not built yet, or Redis failing): Postgres decides. */
  | { kind: 'pass' };

export class SeatClaims {
  private readonly rebuilds = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly pool: Pool,
    private readonly logger?: Logger,
  ) {
    if (!withCommands.has(redis)) {
      const n = 7;
      redis.defineCommand('claimSeats', { numberOfKeys: n + 1, lua: CLAIM_SEATS });
      redis.defineCommand('claimBest', { numberOfKeys: n + 1, lua: CLAIM_BEST });
      redis.defineCommand('dropClaim', { numberOfKeys: n, lua: DROP });
      redis.defineCommand('claimSold', { numberOfKeys: n, lua: SOLD });
      redis.defineCommand('activeClaims', { numberOfKeys: n, lua: ACTIVE });
      withCommands.add(redis);
    }
  }

  /**
   * Claims the seats of a hold request for `ttlMs`, all or nothing, in one
   * Lua call. When the gate is not built it is rebuilt first (one caller per
   * process; others wait briefly) and the request passes through to Postgres
   * if that does not finish in time.
   */
  async claim(eventId: string, holdId: string, request: HoldRequest, ttlMs: number, buyer: BuyerLimit): Promise<ClaimOutcome> {
    try {
      let out = await this.tryClaim(eventId, holdId, request, ttlMs, buyer);
      if (out.kind === 'pass') {
        await this.ensureBuilt(eventId, 1000);
        // The first call counted this attempt already.
        out = await this.tryClaim(eventId, holdId, request, ttlMs, { ...buyer, limit: { ...buyer.limit, limit: 0 } });
      }
      return out;
    } catch (err) {
      this.logger?.warn({ err, eventId }, 'claim gate unavailable; the hold goes to Postgres');
      return { kind: 'pass' };
    }
  }

  private async tryClaim(eventId: string, holdId: string, request: HoldRequest, ttlMs: number, buyer: BuyerLimit): Promise<ClaimOutcome> {
    const keys = [...keyList(eventId), eventRateKey(eventId, 'hold', buyer.buyerId)];
    const rate = [buyer.limit.limit, buyer.limit.windowMs];
    const reply =
      request.kind === 'seats'
        ? await this.redis.claimSeats(...keys, holdId, Math.round(ttlMs), ...rate, ...request.seatIds)
        : await this.redis.claimBest(...keys, holdId, Math.round(ttlMs), ...rate, request.quantity, request.section ?? '');
    const [kind, ...seatIds] = reply;
    switch (kind) {
      case 'limited':
        return { kind, retryAfterMs: Number(seatIds[0]) };
      case 'claimed':
      case 'taken':
      case 'unknown':
        return { kind, seatIds };
      case 'unknown_section':
      case 'none':
      case 'pass':
        return { kind };
      default:
        throw new Error(`claim gate answered ${String(kind)}`);
    }
  }

  /**
   * Records a hold Postgres made, for as long as Postgres keeps it: refreshes
   * the claim of the same id, or claims the seats for a hold made while the
   * gate was not built. Does nothing when the gate is not built.
   */
  async record(eventId: string, holdId: string, seatIds: string[], ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    // Postgres made this hold: not an attempt to count (limit 0; the counter key is only a slot-mate).
    const keys = keyList(eventId);
    await this.redis.claimSeats(...keys, keys[0]!, holdId, Math.round(ttlMs), 0, 0, ...seatIds);
  }

  /** Ends a claim (released, expired, or refused by Postgres): its seats are free again in Redis. */
  async drop(eventId: string, holdId: string): Promise<void> {
    await this.redis.dropClaim(...keyList(eventId), holdId);
  }

  /** The hold was sold: its seats stay taken for good, and the claim ends. */
  async sold(eventId: string, holdId: string, seatIds: string[]): Promise<void> {
    await this.redis.claimSold(...keyList(eventId), holdId, ...seatIds);
  }

  /** Holds alive in Redis's view, or null when the gate is not built (the caller asks Postgres). */
  async activeHolds(eventId: string): Promise<number | null> {
    const n = await this.redis.activeClaims(...keyList(eventId));
    return n < 0 ? null : n;
  }

  /** Drops the event's gate: the next claim rebuilds it from Postgres. */
  async invalidate(eventId: string): Promise<void> {
    await this.redis.del(...keyList(eventId));
  }

  /** Waits up to `waitMs` for the gate to be built, building it if no other process is. */
  async ensureBuilt(eventId: string, waitMs: number): Promise<boolean> {
    const k = claimKeys(eventId);
    if ((await this.redis.exists(k.ready)) === 1) return true;
    let running = this.rebuilds.get(eventId);
    if (!running) {
      running = (async () => {
        const locked = await this.redis.set(k.rebuilding, '1', 'PX', 30_000, 'NX');
        if (locked !== 'OK') return;
        try {
          await this.rebuild(eventId);
        } finally {
          await this.redis.del(k.rebuilding);
        }
      })().finally(() => this.rebuilds.delete(eventId));
      this.rebuilds.set(eventId, running);
    }
    const deadline = Date.now() + waitMs;
    await Promise.race([running, new Promise((r) => setTimeout(r, waitMs))]).catch((err: unknown) => {
      this.logger?.warn({ err, eventId }, 'claim gate rebuild failed');
    });
    while (Date.now() < deadline) {
      if ((await this.redis.exists(k.ready)) === 1) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return (await this.redis.exists(k.ready)) === 1;
  }

  /**
   * Builds the gate from Postgres, replacing whatever is there in one MULTI.
   * Holds that commit between the read and the write are missing from it: the
   * gate is then wrong towards "free" for them, which Postgres catches.
   */
  async rebuild(eventId: string): Promise<void> {
    const state = await loadClaimState(this.pool, eventId);
    if (!state.sections.length) return; // no such event: nothing to gate
    const k = claimKeys(eventId);
    const now = Date.now();
    const taken = new Map<string, string>();
    const holds = new Map<string, { seats: string[]; expiresAtMs: number }>();
    for (const s of state.taken) {
      if (s.status === 'sold') taken.set(s.seatId, '!');
      else if (s.holdId && s.expiresAtMs > now) {
        taken.set(s.seatId, s.holdId);
        const h = holds.get(s.holdId) ?? { seats: [], expiresAtMs: s.expiresAtMs };
        h.seats.push(s.seatId);
        holds.set(s.holdId, h);
      }
    }
    const free = new Map<string, number>();
    const rows: [string, number, number][] = [];
    for (const sec of state.sections) {
      for (let r = 1; r <= sec.rows; r++) {
        rows.push([sec.id, r, sec.seatsPerRow]);
        free.set(`${sec.id}-${r}`, sec.seatsPerRow);
      }
    }
    for (const seatId of taken.keys()) {
      const m = /^(.+)-(\d+)-\d+$/.exec(seatId);
      if (m) free.set(`${m[1]}-${m[2]}`, (free.get(`${m[1]}-${m[2]}`) ?? 0) - 1);
    }
    let total = 0;
    for (const n of free.values()) total += n;
    free.set('*', total);
    const multi = this.redis.multi().del(k.seats, k.expiry, k.holds, k.free, k.rows, k.sections, k.ready);
    multi.hset(k.sections, Object.fromEntries(state.sections.map((s) => [s.id, `${s.rows},${s.seatsPerRow}`])));
    multi.set(k.rows, JSON.stringify(rows));
    multi.hset(k.free, Object.fromEntries(free));
    const takenEntries = [...taken.entries()];
    for (let i = 0; i < takenEntries.length; i += 2000) multi.hset(k.seats, Object.fromEntries(takenEntries.slice(i, i + 2000)));
    for (const [holdId, h] of holds) {
      multi.hset(k.holds, holdId, h.seats.join(','));
      multi.zadd(k.expiry, h.expiresAtMs, holdId);
    }
    multi.set(k.ready, '1');
    await multi.exec();
  }
}
