/** Seat-map reads: served from the Redis cache, rebuilt from Postgres when missing, and from Postgres when Redis is gone. */
import { seatKeys } from '../../services/seat-cache';
import { apiClient, createEvent, expectOk, newBuyer, reply } from '../support/http';
import { startApi, testConfig } from '../../harness/stack';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);

const statuses = async (base: string, eventId: string) => {
  const r = await reply(apiClient(base).v1.events[':eventId'].seats.$get({ param: { eventId } }));
  expectOk(r, 200);
  return { version: r.body.version, map: Object.fromEntries(r.body.seats.map((s) => [s.seatId, s.status])) };
};

const counts = async (base: string, eventId: string) => {
  const r = await reply(apiClient(base).v1.events[':eventId'].$get({ param: { eventId } }));
  expectOk(r, 200);
  return r.body.counts;
};

const hold = (base: string, token: string, eventId: string, seatIds: string[]) =>
  reply(apiClient(base, token).v1.events[':eventId'].hold.$post({ param: { eventId }, json: { seatIds }, header: {} }));

test('the cache follows every change, and is rebuilt from Postgres after it is lost', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const before = await statuses(stack.api.url, eventId);
  expect(Object.keys(before.map)).toHaveLength(50);
  expect(await stack.api.deps.redis.exists(seatKeys(eventId).ready)).toBe(1);

  const buyer = await newBuyer(stack.api.url);
  const held5 = await hold(stack.api.url, buyer.token, eventId, ['A-5-9', 'A-5-10']);
  expectOk(held5, 201);
  const held = await statuses(stack.api.url, eventId);
  expect(held.map['A-5-9']).toBe('held');
  expect(held.version).toBeGreaterThan(before.version);

  // Redis loses everything about the event: the next read rebuilds it from Postgres.
  const k = seatKeys(eventId);
  await stack.api.deps.redis.del(k.ready, k.status, k.counts, k.layout, k.version);
  const rebuilt = await statuses(stack.api.url, eventId);
  expect(rebuilt.map).toEqual(held.map);
  expect(await counts(stack.api.url, eventId)).toEqual({ available: 48, held: 2, sold: 0 });

  const paid = apiClient(stack.api.url, buyer.token).v1.events[':eventId'].purchase.$post({
    param: { eventId },
    json: { holdId: held5.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expectOk(await reply(paid), 200);
  const sold = await statuses(stack.api.url, eventId);
  expect(sold.map['A-5-10']).toBe('sold');
});

test('with Redis unreachable, seat maps and counts come from Postgres', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url);
  expectOk(await hold(stack.api.url, buyer.token, eventId, ['A-1-1']), 201);
  const blind = await startApi({ ...config, REDIS_URL: 'redis://127.0.0.1:1' });
  try {
    const m = await statuses(blind.url, eventId);
    expect(m.map['A-1-1']).toBe('held');
    expect(await counts(blind.url, eventId)).toEqual({ available: 49, held: 1, sold: 0 });
  } finally {
    await blind.stop();
  }
});
