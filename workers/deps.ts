import { createPool } from '../db/pool';
import type { ActivityDeps } from '../activities';
import { createPaymentProvider } from '../payments';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { createRedis } from '../platform/redis';
import { SeatCache } from '../services/seat-cache';
import { SeatClaims } from '../services/seat-claims';
import { WaitingRoom } from '../services/waiting-room';

/** Connections shared by every activity of one worker process. */
export function createActivityDeps(config: Config, logger: Logger): ActivityDeps & { close(): Promise<void> } {
  const pool = createPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE });
  const redis = createRedis(config.REDIS_URL, 'onsale-worker', config.REDIS_CLUSTER_NODES);
  return {
    pool,
    redis,
    seatCache: new SeatCache(redis, pool, logger),
    seatClaims: new SeatClaims(redis, pool, logger),
    waitingRoom: new WaitingRoom(redis),
    payments: createPaymentProvider(config, pool),
    logger,
    settings: { holdPaymentGraceSeconds: config.HOLD_PAYMENT_GRACE_SECONDS, currency: config.PAYMENT_CURRENCY },
    async close() {
      await Promise.allSettled([pool.end(), redis.quit()]);
    },
  };
}
