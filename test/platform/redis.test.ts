/** The Redis started by scripts/stack.sh (REDIS_URL) answers commands. */
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { requireEnv } from '../../harness/runtime';

describe('Redis', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(requireEnv('REDIS_URL'), { maxRetriesPerRequest: 2 });
  });

  afterAll(async () => {
    await redis?.quit();
  });

  test('SET, GET and INCR round-trip', async () => {
    const key = `platform-test:${randomUUID()}`;
    try {
      expect(await redis.set(key, '41', 'EX', 60)).toBe('OK');
      expect(await redis.get(key)).toBe('41');
      expect(await redis.incr(key)).toBe(42);
      expect(await redis.get(key)).toBe('42');
    } finally {
      await redis.del(key);
    }
  });
});
