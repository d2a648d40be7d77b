/**
 * Fixed-window rate limits in Redis, shared by every API replica. A limit
 * that Redis cannot check is not enforced: losing Redis must not take the
 * API down with it.
 *
 * This module owns the counters' format (`rl:…` keys, one INCR per window).
 * Scripts that check a limit in the same call as their own work (the waiting
 * room's join and status) embed RATE_HIT_LUA and name their counters with
 * eventRateKey, so a Redis Cluster keeps them on the event's slot.
 */
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import { DomainError } from '../domain/errors';
import { RecentMap } from '../platform/recent-map';

/**
 * A Lua function for scripts: counts one hit on KEY; answers 0 when within
 * LIMIT, else the milliseconds until its window ends.
 */
export const RATE_HIT_LUA = `
local function rate_hit(key, limit, windowMs)
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if n == 1 or ttl < 0 then
    redis.call('PEXPIRE', key, windowMs)
    ttl = windowMs
  end
  if n > limit then return ttl end
  return 0
end`;

const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rateHit(key: string, windowMs: number): Result<[number, number], Context>;
  }
}

const defined = new WeakSet<Redis>();

export interface Limit {
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
}

/** A per-event counter, on the event's hash slot. */
export const eventRateKey = (eventId: string, scope: string, subject: string) => `rl:{${eventId}}:${scope}:${subject}`;

/** The error a request over its limit gets: 429 with Retry-After. */
export function rateLimited(scope: string, { limit, windowMs }: Limit, retryAfterMs: number, message = 'too many requests; slow down') {
  return new DomainError('RATE_LIMITED', message, {
    scope,
    limit,
    windowSeconds: windowMs / 1000,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}

export class RateLimiter {
  constructor(private readonly redis: Redis) {
    if (!defined.has(redis)) {
      redis.defineCommand('rateHit', { numberOfKeys: 1, lua: HIT });
      defined.add(redis);
    }
  }

  /** Counts one request against `key`; throws RATE_LIMITED with Retry-After when over the limit. */
  async check(scope: string, key: string, limit: Limit): Promise<void> {
    let count: number;
    let ttl: number;
    try {
      [count, ttl] = await this.redis.rateHit(`rl:${scope}:${key}`, limit.windowMs);
    } catch {
      return;
    }
    if (count > limit.limit) throw rateLimited(scope, limit, ttl);
  }
}

/**
 * Fixed-window limits counted in this process only, for calls whose answer
 * this process gives without Redis (a waiting buyer's status poll): a window
 * starts at a key's first hit, as in Redis. Behind a balancer that spreads one
 * client over N processes the client gets up to N times the limit; each
 * process still bounds what one client costs it. Counters live in two
 * generations of `perGeneration` keys, so memory is bounded; a key pushed out
 * by that many newer ones starts a new window.
 */
/**
 * One status poll (GET /queue/me) counted against the event's per-buyer
 * limit, as the route and its fast path both count it: the limit, and the
 * milliseconds until the window ends when over it (0 within).
 */
export function countStatusPoll(
  polls: LocalRateLimits,
  eventId: string,
  buyerId: string,
  room: { statusLimitPerBuyer: number; rateWindowSeconds: number },
  nowMs: number,
): { limit: Limit; retryAfterMs: number } {
  const limit = { limit: room.statusLimitPerBuyer, windowMs: room.rateWindowSeconds * 1000 };
  return { limit, retryAfterMs: polls.hit(`${eventId} ${buyerId}`, limit, nowMs) };
}

export class LocalRateLimits {
  private readonly windows: RecentMap<string, { hits: number; endsAt: number }>;

  constructor(perGeneration = 100_000) {
    this.windows = new RecentMap(perGeneration);
  }

  /** Counts one hit; answers 0 when within the limit, else the milliseconds until the window ends. */
  hit(key: string, { limit, windowMs }: Limit, nowMs = Date.now()): number {
    let w = this.windows.get(key);
    if (!w) {
      w = { hits: 0, endsAt: nowMs + windowMs };
      this.windows.set(key, w);
    } else if (w.endsAt <= nowMs) {
      w.hits = 0;
      w.endsAt = nowMs + windowMs;
    }
    w.hits++;
    return w.hits > limit ? w.endsAt - nowMs : 0;
  }
}
