/**
 * /queue/me's memory (services/waiting-status.ts) against a real Redis: a
 * waiting buyer is answered from memory, and everything that is not plainly
 * "waiting" still comes from Redis. The clock is passed in, so "from memory"
 * shows as an answer that has not yet seen a change Redis already holds.
 */
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { LocalRateLimits } from '../../services/rate-limit';
import { queueKeys, WaitingRoom } from '../../services/waiting-room';
import { WaitingStatus } from '../../services/waiting-status';
import { requireEnv } from '../../harness/runtime';

const MAX_AGE = 100;
const newEvent = () => `evt_${randomUUID().replace(/-/g, '')}`;

describe('waiting buyers from memory', () => {
  let redis: Redis;
  let room: WaitingRoom;
  beforeAll(() => {
    redis = new Redis(requireEnv('REDIS_URL'));
    room = new WaitingRoom(redis);
  });
  afterAll(async () => {
    await redis.quit();
  });

  /** A sealed line of `n` buyers b0..b(n-1) at positions 1..n. */
  async function line(n: number, eventId = newEvent()) {
    for (let i = 0; i < n; i++) await room.join(eventId, `b${i}`, { beforeSale: false, ip: `ip${i}`, maxPlacesPerIp: 5 });
    return eventId;
  }

  test('an admission shows once the line state is older than its limit, and the admitted buyer gets the deadline', async () => {
    const eventId = await line(5);
    const waiting = new WaitingStatus(room, MAX_AGE);
    const t = Date.now();
    expect(await waiting.status(eventId, 'b3', t)).toMatchObject({ position: 4, servingPosition: 0, ahead: 3, status: 'waiting' });

    await room.admitThrough(eventId, 4, t + 60_000, 120);
    // Inside the limit: the answer is built from what this process read before the admission.
    expect(await waiting.status(eventId, 'b3', t + 10)).toEqual({
      position: 4,
      servingPosition: 0,
      ahead: 3,
      estimatedWaitSeconds: -1,
      status: 'waiting',
    });
    // A buyer this process has not seen yet is read from Redis at once.
    expect(await waiting.status(eventId, 'b2', t + 10)).toMatchObject({ position: 3, status: 'admitted', admissionDeadline: t + 60_000 });
    // Past the limit: the line is read again, and a reached position goes to Redis for the admission.
    expect(await waiting.status(eventId, 'b3', t + MAX_AGE)).toMatchObject({ status: 'admitted', admissionDeadline: t + 60_000 });
    // Still waiting, from memory, with the new serving position and rate.
    expect(await waiting.status(eventId, 'b4', t + MAX_AGE)).toEqual({
      position: 5,
      servingPosition: 4,
      ahead: 0,
      estimatedWaitSeconds: 1,
      status: 'waiting',
      lineSeed: expect.any(String),
    });
    expect(await waiting.status(eventId, 'b4', t + MAX_AGE + 1)).toEqual({
      position: 5,
      servingPosition: 4,
      ahead: 0,
      estimatedWaitSeconds: 1,
      status: 'waiting',
    });
  });

  test('a closed or sold-out sale, and a line with a waitlist, are always read from Redis', async () => {
    const waiting = new WaitingStatus(room, MAX_AGE);
    const t = Date.now();
    const closed = await line(3);
    await waiting.status(closed, 'b2', t);
    await room.setStatus(closed, 'sold_out');
    expect(await waiting.status(closed, 'b2', t + MAX_AGE)).toMatchObject({ position: 3, status: 'sold_out' });

    // A waitlist offer admits a buyer whose place the serving position has not reached.
    const offered = await line(3);
    expect(await waiting.status(offered, 'b2', t)).toMatchObject({ status: 'waiting' });
    await room.joinWaitlist(offered, 'b2', 1);
    expect(await room.offerWaitlist(offered, 1, t + 60_000)).toEqual([{ buyerId: 'b2', quantity: 1 }]);
    expect(await waiting.status(offered, 'b2', t + MAX_AGE)).toMatchObject({
      position: 3,
      status: 'admitted',
      admissionDeadline: t + 60_000,
    });
  });

  test('pre-queue places are not kept: after the shuffle the buyer reads their final position', async () => {
    const eventId = newEvent();
    const waiting = new WaitingStatus(room, MAX_AGE);
    const early = ['e0', 'e1', 'e2', 'e3'];
    for (const b of early) await room.join(eventId, b, { beforeSale: true, ip: b, maxPlacesPerIp: 5 });
    const t = Date.now();
    expect(await waiting.status(eventId, 'e3', t)).toMatchObject({ position: 4, status: 'prequeue' });
    await room.join(eventId, 'late', { beforeSale: false, ip: 'late', maxPlacesPerIp: 5 });
    const { order } = await room.assignPrequeue(eventId);
    expect(await waiting.status(eventId, 'e3', t + MAX_AGE)).toMatchObject({ position: order.indexOf('e3') + 1, status: 'waiting' });
    expect(await waiting.status(eventId, 'late', t + MAX_AGE)).toMatchObject({ position: 5, status: 'waiting' });
  });

  test('a line rebuilt after its keys are lost never shows a position from the old line', async () => {
    const eventId = await line(3);
    const waiting = new WaitingStatus(room, MAX_AGE);
    const t = Date.now();
    expect(await waiting.status(eventId, 'b2', t)).toMatchObject({ position: 3, status: 'waiting' });
    await redis.del(...Object.values(queueKeys(eventId)));
    // A new line as long as the old one, without b2: its length alone cannot tell the old position apart.
    for (const b of ['n0', 'n1', 'n2', 'n3']) await room.join(eventId, b, { beforeSale: false, ip: b, maxPlacesPerIp: 5 });
    expect(await waiting.status(eventId, 'b2', t + MAX_AGE)).toBeNull();
    expect(await waiting.status(eventId, 'n3', t + MAX_AGE)).toMatchObject({ position: 4, status: 'waiting' });
  });

  test('positions beyond its memory are read from Redis again, with the same answer', async () => {
    const eventId = await line(6);
    const waiting = new WaitingStatus(room, MAX_AGE, 2);
    const t = Date.now();
    const first = [];
    for (let i = 0; i < 6; i++) first.push(await waiting.status(eventId, `b${i}`, t));
    for (let i = 0; i < 6; i++) {
      const { lineSeed: _s, ...again } = (await waiting.status(eventId, `b${i}`, t + 1))!;
      const { lineSeed: _f, ...before } = first[i]!;
      expect(again).toEqual(before);
    }
  });
});

describe('status-poll limits counted in the process', () => {
  const limit = { limit: 3, windowMs: 1000 };

  test('a key gets its limit per window, then the time to the window end', () => {
    const polls = new LocalRateLimits();
    const t = 1_000_000;
    expect([polls.hit('a', limit, t), polls.hit('a', limit, t + 1), polls.hit('a', limit, t + 2)]).toEqual([0, 0, 0]);
    expect(polls.hit('a', limit, t + 400)).toBe(600);
    expect(polls.hit('b', limit, t + 400)).toBe(0);
    // The window starts at the key's first hit and a new one starts after it.
    expect(polls.hit('a', limit, t + 1000)).toBe(0);
  });

  test('keys pushed into the older generation keep their counts; pushed out of both, they start over', () => {
    const polls = new LocalRateLimits(2);
    const t = 1_000_000;
    for (let i = 0; i < 4; i++) polls.hit('a', limit, t);
    polls.hit('b', limit, t);
    polls.hit('c', limit, t); // a moves to the older generation
    expect(polls.hit('a', limit, t + 1)).toBeGreaterThan(0);
    polls.hit('d', limit, t);
    polls.hit('e', limit, t);
    polls.hit('f', limit, t);
    polls.hit('g', limit, t); // a is gone from both
    expect(polls.hit('a', limit, t + 2)).toBe(0);
  });
});
