/**
 * The waiting room's and the seat map's Lua scripts on Redis Cluster. Each script touches several
 * keys; they share the event's `{eventId}` hash tag, so each runs on the one
 * master owning that slot. Spread over many events (and so over every
 * master), joins, the pre-queue shuffle, admission and the waitlist must
 * behave exactly as on one Redis.
 *
 * Runs against the three-master cluster of scripts/cluster.sh
 * (ONSALE_REDIS_CLUSTER_NODES in .state/cluster.env, or REDIS_CLUSTER_NODES);
 * skipped when neither is set.
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { createRedisCluster, parseClusterNodes } from '../../platform/redis-cluster';
import { SeatCache, seatKeys } from '../../services/seat-cache';
import { queueKeys, WaitingRoom } from '../../services/waiting-room';

describe('parseClusterNodes', () => {
  test('reads host:port lists, IPv6 in brackets, spaces around commas', () => {
    expect(parseClusterNodes('127.0.0.1:57001, redis-1.redis:6379,[::1]:7000')).toEqual([
      { host: '127.0.0.1', port: 57001 },
      { host: 'redis-1.redis', port: 6379 },
      { host: '::1', port: 7000 },
    ]);
  });

  test.each(['', ' , ', 'redis', 'redis:port', 'redis:6379/0'])('rejects %p', (value) => {
    expect(() => parseClusterNodes(value)).toThrow(/REDIS_CLUSTER_NODES/);
  });
});

const nodes = process.env.REDIS_CLUSTER_NODES ?? process.env.ONSALE_REDIS_CLUSTER_NODES;
const onCluster = nodes ? describe : describe.skip;

onCluster('the waiting room on Redis Cluster', () => {
  let redis: Redis;
  let room: WaitingRoom;
  const events: string[] = [];
  /** Event id → the master owning its slot. */
  const ownerOf = new Map<string, string>();
  let masters: string[] = [];

  beforeAll(async () => {
    const first = parseClusterNodes(nodes!)[0]!;
    redis = createRedisCluster(nodes!, `redis://${first.host}:${first.port}`, 'onsale-test');
    room = new WaitingRoom(redis);
    expect(String(await redis.cluster('INFO'))).toMatch(/cluster_state:ok/);
    const ranges = (await redis.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    masters = [...new Set(ranges.map((r) => `${r[2][0]}:${r[2][1]}`))];
    // Draw event ids until every master owns three of them.
    for (let i = 0; i < 500 && masters.some((m) => [...ownerOf.values()].filter((o) => o === m).length < 3); i++) {
      const id = `cluster-test-${randomUUID()}`;
      const slot = Number(await redis.cluster('KEYSLOT', queueKeys(id).places));
      const owner = ranges.find(([from, to]) => slot >= from && slot <= to)!;
      const master = `${owner[2][0]}:${owner[2][1]}`;
      if ([...ownerOf.values()].filter((o) => o === master).length >= 3) continue;
      ownerOf.set(id, master);
      events.push(id);
    }
  });

  afterAll(async () => {
    if (!redis) return;
    for (const id of events) {
      // One DEL per event: all of its keys are in one slot.
      await redis.del(...Object.values(queueKeys(id)));
    }
    await redis.quit();
  });

  test('every key of one event hashes to one slot, and the events span every master', async () => {
    expect(masters.length).toBeGreaterThanOrEqual(3);
    for (const id of events) {
      const slots = new Set(
        await Promise.all(Object.values(queueKeys(id)).map(async (key) => Number(await redis.cluster('KEYSLOT', key)))),
      );
      expect(slots.size).toBe(1);
    }
    expect(new Set(ownerOf.values()).size).toBe(masters.length);
  });

  test('joins are first come, first served per event, one place per buyer', async () => {
    for (const id of events) {
      const places = [];
      for (let i = 0; i < 5; i++)
        places.push(await room.join(id, `buyer-${i}`, { beforeSale: false, ip: `10.0.0.${i}`, maxPlacesPerIp: 3 }));
      expect(places.map((p) => p!.position)).toEqual([1, 2, 3, 4, 5]);
      expect((await room.join(id, 'buyer-2', { beforeSale: false, ip: '10.0.0.2', maxPlacesPerIp: 3 }))!).toMatchObject({
        position: 3,
        created: false,
      });
    }
  });

  test('admission moves the serving position and admits exactly those buyers', async () => {
    for (const id of events) {
      const deadline = Date.now() + 60_000;
      expect(await room.admitThrough(id, 3, deadline, 60)).toBe(3);
      expect((await room.status(id, 'buyer-0'))!.status).toBe('admitted');
      expect((await room.status(id, 'buyer-4'))!).toMatchObject({ status: 'waiting', ahead: 1 });
      expect(await room.progress(id)).toMatchObject({ servingPosition: 3, queueLength: 5 });
    }
  });

  test('the pre-queue is sealed and shuffled on the owning master', async () => {
    const id = events[0]!.replace('cluster-test-', 'cluster-pre-');
    events.push(id);
    for (let i = 0; i < 20; i++) await room.join(id, `early-${i}`, { beforeSale: true, ip: `10.1.0.${i}`, maxPlacesPerIp: 5 });
    await room.seal(id);
    const { order } = await room.assignPrequeue(id);
    expect([...order].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `early-${i}`).sort());
    const status = await room.status(id, order[0]!);
    expect(status!.position).toBe(1);
  });

  test('the waitlist keeps its order', async () => {
    const id = events[1]!;
    expect(await room.joinWaitlist(id, 'late-a', 2)).toEqual({ position: 1, created: true });
    expect(await room.joinWaitlist(id, 'late-b', 1)).toEqual({ position: 2, created: true });
    expect(await room.offerWaitlist(id, 3, Date.now() + 60_000)).toEqual([
      { buyerId: 'late-a', quantity: 2 },
      { buyerId: 'late-b', quantity: 1 },
    ]);
  });
});

onCluster('the seat map on Redis Cluster', () => {
  let redis: Redis;
  let subscriber: Redis;
  const eventId = `cluster-seats-${randomUUID()}`;

  beforeAll(() => {
    const first = parseClusterNodes(nodes!)[0]!;
    redis = createRedisCluster(nodes!, `redis://${first.host}:${first.port}`, 'onsale-test');
  });

  afterAll(async () => {
    const k = seatKeys(eventId);
    await redis?.del(k.status, k.counts, k.version, k.changes);
    await Promise.allSettled([subscriber?.quit(), redis?.quit()]);
  });

  test('a change applied by one client reaches a subscriber made by duplicate(options)', async () => {
    // The seat-map fan-out's way of making its subscriber (api/seat-fanout.ts).
    subscriber = redis.duplicate({ connectionName: 'onsale-test-streams', maxRetriesPerRequest: null });
    const received = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, message: string) => resolve(message)));
    await subscriber.subscribe(seatKeys(eventId).channel);
    // apply() never reads Postgres: the pool is not needed here.
    const cache = new SeatCache(redis, undefined as unknown as Pool);
    await cache.apply(eventId, [
      { seatId: 'A-1-1', status: 'held', version: 7 },
      { seatId: 'A-1-2', status: 'held', version: 8 },
    ]);
    expect(JSON.parse(await received)).toMatchObject({ version: 8 });
    const counts = await redis.hgetall(seatKeys(eventId).counts);
    expect(Number(counts.h)).toBe(2);
  });
});
