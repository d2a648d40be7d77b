import Redis from 'ioredis';
import { createRedisCluster } from './redis-cluster';

/** One Redis, or a Redis Cluster when seed nodes are given (every multi-key script uses {eventId}-tagged keys). */
export function createRedis(url: string, name = 'onsale', clusterNodes?: string): Redis {
  if (clusterNodes) return createRedisCluster(clusterNodes, url, name);
  return new Redis(url, {
    connectionName: name,
    // Fail fast while Redis is down instead of queueing requests without bound.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    // Commands issued in the same tick go out as one write: a crowd of joins and
    // status polls costs Redis one round trip per tick, not one per request.
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
