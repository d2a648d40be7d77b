/** Seat-map reads: served from the Redis cache, rebuilt from Postgres when missing, and from Postgres when Redis is gone. */
import { seatKeys } from '../../services/seat-cache';
import { call, createEvent, newBuyer } from '../support/http';
import { startApi, testConfig } from '../../harness/stack';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);

const statuses = async (base: string, eventId: string) => {
  const r = await call(base, 'GET', `/v1/events/${eventId}/seats`);
  expect(r.status).toBe(200);
  return { version: r.body.version as number, map: Object.fromEntries(r.body.seats.map((s: any) => [s.seatId, s.status])) };
};

test('the cache follows every change, and is rebuilt from Postgres after it is lost', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const before = await statuses(stack.api.url, eventId);
  expect(Object.keys(before.map)).toHaveLength(50);
  expect(await stack.api.deps.redis.exists(seatKeys(eventId).ready)).toBe(1);

  const buyer = await newBuyer(stack.api.url);
  const hold = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, {
    token: buyer.token,
    body: { seatIds: ['A-5-9', 'A-5-10'] },
  });
  expect(hold.status).toBe(201);
  const held = await statuses(stack.api.url, eventId);
  expect(held.map['A-5-9']).toBe('held');
  expect(held.version).toBeGreaterThan(before.version);

  // Redis loses everything about the event: the next read rebuilds it from Postgres.
  const k = seatKeys(eventId);
  await stack.api.deps.redis.del(k.ready, k.status, k.counts, k.layout, k.version);
  const rebuilt = await statuses(stack.api.url, eventId);
  expect(rebuilt.map).toEqual(held.map);
  const event = await call(stack.api.url, 'GET', `/v1/events/${eventId}`);
  expect(event.body.counts).toEqual({ available: 48, held: 2, sold: 0 });

  await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  const sold = await statuses(stack.api.url, eventId);
  expect(sold.map['A-5-10']).toBe('sold');
});

test('with Redis unreachable, seat maps and counts come from Postgres', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url);
  expect(
    (await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { seatIds: ['A-1-1'] } })).status,
  ).toBe(201);
  const blind = await startApi({ ...config, REDIS_URL: 'redis://127.0.0.1:1' });
  try {
    const m = await statuses(blind.url, eventId);
    expect(m.map['A-1-1']).toBe('held');
    const event = await call(blind.url, 'GET', `/v1/events/${eventId}`);
    expect(event.body.counts).toEqual({ available: 49, held: 1, sold: 0 });
  } finally {
    await blind.stop();
  }
});
