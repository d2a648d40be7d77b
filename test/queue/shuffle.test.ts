/** The pre-queue shuffle is uniform, reproducible from its seed, and late arrivals queue behind it. */
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { newSeed, shuffle } from '../../services/shuffle';
import { queueKeys, WaitingRoom } from '../../services/waiting-room';
import { requireEnv } from '../../harness/runtime';

/** Upper 0.1% points of the chi-square distribution. */
const CHI2_999 = { 23: 49.73, 9: 27.88 } as const;

test('every permutation of four pre-queue buyers is equally likely (chi-square, 24,000 shuffles)', () => {
  const counts = new Map<string, number>();
  const trials = 24_000;
  for (let i = 0; i < trials; i++) {
    const key = shuffle(['a', 'b', 'c', 'd'], newSeed()).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  expect(counts.size).toBe(24);
  const expected = trials / 24;
  const chi2 = [...counts.values()].reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
  expect(chi2).toBeLessThan(CHI2_999[23]);
});

test('each of ten buyers lands in first place equally often (chi-square, 20,000 shuffles)', () => {
  const buyers = Array.from({ length: 10 }, (_, i) => `b${i}`);
  const first = new Map<string, number>();
  const trials = 20_000;
  for (let i = 0; i < trials; i++) {
    const winner = shuffle(buyers, newSeed())[0]!;
    first.set(winner, (first.get(winner) ?? 0) + 1);
  }
  const expected = trials / 10;
  const chi2 = buyers.reduce((s, b) => s + ((first.get(b) ?? 0) - expected) ** 2 / expected, 0);
  expect(chi2).toBeLessThan(CHI2_999[9]);
});

test('the same seed gives the same order, so the shuffle can be audited', () => {
  const seed = newSeed();
  const items = Array.from({ length: 1000 }, (_, i) => `buyer-${i}`);
  expect(shuffle(items, seed)).toEqual(shuffle(items, seed));
  expect(shuffle(items, seed)).not.toEqual(shuffle(items, newSeed()));
  expect([...shuffle(items, seed)].sort()).toEqual([...items].sort());
});

describe('in Redis', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(requireEnv('REDIS_URL'));
  });
  afterAll(async () => {
    await redis.quit();
  });

  test('late arrivals go behind the whole pre-queue, strictly first come first served', async () => {
    const room = new WaitingRoom(redis);
    const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
    const early = Array.from({ length: 50 }, (_, i) => `early-${i}`);
    const join = (b: string, beforeSale: boolean) => room.join(eventId, b, { beforeSale, ip: b, maxPlacesPerIp: 5 });
    for (const [i, b] of early.entries()) {
      expect(await join(b, true)).toEqual({ position: i + 1, prequeue: true, created: true, status: 'prequeue' });
    }
    expect((await room.status(eventId, 'early-3'))!.status).toBe('prequeue');
    // The first arrival after the on-sale time seals the pre-queue.
    const late = Array.from({ length: 20 }, (_, i) => `late-${i}`);
    for (const [i, b] of late.entries()) {
      expect(await join(b, false)).toEqual({ position: 51 + i, prequeue: false, created: true, status: 'waiting' });
    }
    // Joining again, before or after, keeps the place.
    expect(await join('late-0', false)).toEqual({ position: 51, prequeue: false, created: false, status: 'waiting' });
    const positions = await Promise.all(early.map(async (b) => (await room.status(eventId, b))!.position));
    expect([...positions].sort((a, b) => a - b)).toEqual(early.map((_, i) => i + 1));
    expect(positions).not.toEqual(early.map((_, i) => i + 1)); // shuffled (1 in 50! chance of identity)
    // The order is the seeded shuffle of the arrival list: anyone with the seed can check it.
    const seed = (await redis.get(queueKeys(eventId).seed))!;
    const order = shuffle(early, seed);
    for (const [i, b] of order.entries()) expect((await room.status(eventId, b))!.position).toBe(i + 1);
    // Sealing again (the admission workflow at the on-sale time) changes nothing.
    await room.seal(eventId);
    for (const [i, b] of order.entries()) expect((await room.status(eventId, b))!.position).toBe(i + 1);
  });
});
