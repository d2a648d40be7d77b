/**
 * Fixed-window rate limits in Redis, shared by every API replica. A limit
 * that Redis cannot check is not enforced: losing Redis must not take the
 * API down with it.
 */
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import { DomainError } from '../domain/errors';

const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
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

export class RateLimiter {
  constructor(private readonly redis: Redis) {
    if (!defined.has(redis)) {
      redis.defineCommand('rateHit', { numberOfKeys: 1, lua: HIT });
      defined.add(redis);
    }
  }

  /** Counts one request against `key`; throws RATE_LIMITED with Retry-After when over the limit. */
  async check(scope: string, key: string, { limit, windowMs }: Limit): Promise<void> {
    let count: number;
    let ttl: number;
    try {
      [count, ttl] = await this.redis.rateHit(`rl:${scope}:${key}`, windowMs);
    } catch {
      return;
    }
    if (count > limit) {
      throw new DomainError('RATE_LIMITED', 'too many requests; slow down', {
        scope,
        limit,
        windowSeconds: windowMs / 1000,
        retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)),
      });
    }
  }
}
