/**
 * Redis Cluster for the scaled-out topology (scripts/cluster.sh, deploy/):
 * REDIS_CLUSTER_NODES lists some of the cluster's nodes as host:port,host:port
 * and ioredis discovers the rest and follows slot moves.
 *
 * Every multi-key script and MULTI of the application keeps its keys under one
 * `{eventId}` hash tag, so each runs on the one node owning that event's slot;
 * one that mixed events would fail with CROSSSLOT rather than act on a
 * partial view. Pub/sub (the seat-map fan-out) works unchanged: a PUBLISH on
 * any node reaches subscribers on every node.
 */
import Redis, { Cluster, type RedisOptions } from 'ioredis';

/** "host:port,host:port" as ioredis cluster nodes; throws on a malformed entry. */
export function parseClusterNodes(value: string): { host: string; port: number }[] {
  const nodes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      if (!m) throw new Error(`REDIS_CLUSTER_NODES: "${entry}" is not host:port`);
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    });
  if (nodes.length === 0) throw new Error('REDIS_CLUSTER_NODES lists no node');
  return nodes;
}

function connect(nodes: { host: string; port: number }[], redisOptions: RedisOptions): Cluster {
  const cluster = new Cluster(nodes, {
    redisOptions,
    enableOfflineQueue: true,
    // Reads and writes on masters: the waiting room reads its own writes.
    scaleReads: 'master',
    clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // Code written for one Redis calls duplicate(options), e.g. for a pub/sub
  // subscriber; Cluster.duplicate takes (startupNodes, clusterOptions) and
  // would drop those options. Apply them to every node's connection instead.
  cluster.duplicate = ((overrides?: RedisOptions) => connect(nodes, { ...redisOptions, ...overrides })) as Cluster['duplicate'];
  return cluster;
}

/**
 * A cluster client with the same failure behaviour as createRedis: fail fast
 * while the cluster is unreachable rather than queue without bound. Username,
 * password and TLS come from the REDIS_URL the rest of the configuration uses.
 *
 * Typed as Redis: a Cluster answers the same commands, scripts (defineCommand),
 * MULTI on one slot, pub/sub and (see above) duplicate(options), so the code
 * that takes a Redis runs on either.
 */
export function createRedisCluster(nodes: string, url: string, name = 'onsale'): Redis {
  const u = new URL(url);
  return connect(parseClusterNodes(nodes), {
    connectionName: name,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: 2,
  }) as unknown as Redis;
}
