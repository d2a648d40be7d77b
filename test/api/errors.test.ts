/**
 * Every documented error of the hold and purchase paths, produced by bad
 * input through real HTTP; the state fingerprint shows nothing changed.
 */
import { stateFingerprint } from '../../db/audit';
import { apiClient, createEvent, errorOf, expectError, expectOk, newBuyer, type RawRequest, reply, request } from '../support/http';
import { testConfig } from '../../harness/stack';
import { useApiAndWorker } from '../support/stack';

jest.setTimeout(120_000);

const config = testConfig({ BODY_LIMIT_BYTES: '4096' });
const stack = useApiAndWorker(config);

const seen = new Set<string>();

/** Sends the request, checks status and code, and that the event's state did not move. */
async function rejects(eventId: string, req: RawRequest & { method: string; path: string }, status: number, code: string) {
  const before = await stateFingerprint(stack.api.deps.pool, eventId);
  const r = await request(stack.api.url, req.method, req.path, req);
  const error = errorOf(r);
  expect({ status: r.status, code: error?.code }).toEqual({ status, code });
  expect(typeof error?.message).toBe('string');
  expect(typeof error?.details).toBe('object');
  expect(await stateFingerprint(stack.api.deps.pool, eventId)).toBe(before);
  seen.add(code);
  return error!;
}

test('hold: malformed and invalid input is rejected with VALIDATION_FAILED', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const { token } = await newBuyer(stack.api.url);
  const hold = (body: unknown) => ({ method: 'POST', path: `/v1/events/${eventId}/hold`, token, body });
  await rejects(eventId, { method: 'POST', path: `/v1/events/${eventId}/hold`, token, raw: '{"seatIds": [' }, 400, 'VALIDATION_FAILED');
  for (const body of [
    {},
    { quantity: 0 },
    { quantity: -2 },
    { quantity: 1.5 },
    { quantity: '2' },
    { quantity: 2, seatIds: ['A-1-1'] },
    { seatIds: [] },
    { seatIds: ['A-1-1', 'A-1-1'] },
    { seatIds: ['A-1-1'], extra: true },
    { seatIds: ["A-1-1'; DROP TABLE seats;--"] },
    { seatIds: 'A-1-1' },
    { quantity: 1, section: '<script>' },
    [1, 2],
    null,
  ]) {
    await rejects(eventId, hold(body), 400, 'VALIDATION_FAILED');
  }
  await rejects(eventId, { method: 'POST', path: '/v1/events/not-an-id/hold', token, body: { quantity: 1 } }, 400, 'VALIDATION_FAILED');
});

test('hold: identity, existence, sale state and limits', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { maxSeatsPerBuyer: 2 });
  const { token } = await newBuyer(stack.api.url);
  const path = `/v1/events/${eventId}/hold`;
  await rejects(eventId, { method: 'POST', path, body: { quantity: 1 } }, 401, 'UNAUTHENTICATED');
  await rejects(eventId, { method: 'POST', path, token: 'not-a-real-token-at-all', body: { quantity: 1 } }, 401, 'UNAUTHENTICATED');
  await rejects(eventId, { method: 'POST', path, token: config.ADMIN_TOKEN, body: { quantity: 1 } }, 401, 'UNAUTHENTICATED');
  await rejects(eventId, { method: 'POST', path: '/v1/events/evt_doesnotexist0000/hold', token, body: { quantity: 1 } }, 404, 'NOT_FOUND');
  await rejects(eventId, { method: 'POST', path, token, body: { seatIds: ['A-99-1'] } }, 404, 'NOT_FOUND');
  await rejects(eventId, { method: 'POST', path, token, body: { quantity: 1, section: 'ZZ' } }, 404, 'NOT_FOUND');
  await rejects(eventId, { method: 'POST', path, token, body: { quantity: 3 } }, 422, 'LIMIT_EXCEEDED');
  await rejects(eventId, { method: 'POST', path, token, body: { quantity: 51 } }, 400, 'VALIDATION_FAILED');

  const draft = await createEvent(stack.api.url, config.ADMIN_TOKEN, { open: false });
  await rejects(draft, { method: 'POST', path: `/v1/events/${draft}/hold`, token, body: { quantity: 1 } }, 409, 'EVENT_NOT_ON_SALE');
  const later = await createEvent(stack.api.url, config.ADMIN_TOKEN, { onSaleAt: new Date(Date.now() + 3_600_000).toISOString() });
  await rejects(later, { method: 'POST', path: `/v1/events/${later}/hold`, token, body: { quantity: 1 } }, 409, 'EVENT_NOT_ON_SALE');
  const paused = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const pause = apiClient(stack.api.url, config.ADMIN_TOKEN).v1.admin.events[':eventId'].pause.$post({ param: { eventId: paused } });
  expectOk(await reply(pause), 200);
  await rejects(paused, { method: 'POST', path: `/v1/events/${paused}/hold`, token, body: { quantity: 1 } }, 409, 'EVENT_NOT_ON_SALE');

  const room = await createEvent(stack.api.url, config.ADMIN_TOKEN, { waitingRoom: { enabled: true } });
  const roomPath = `/v1/events/${room}/hold`;
  await rejects(room, { method: 'POST', path: roomPath, token, body: { quantity: 1 } }, 403, 'NOT_ADMITTED');
  await rejects(
    room,
    { method: 'POST', path: roomPath, token, body: { quantity: 1 }, headers: { 'x-admission-token': 'eyJhbGciOiJIUzI1NiJ9.e30.forged' } },
    403,
    'NOT_ADMITTED',
  );
});

test('hold: seats taken, a second checkout, and limits counting seats already bought', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { maxSeatsPerBuyer: 3 });
  const first = await newBuyer(stack.api.url);
  const second = await newBuyer(stack.api.url);
  const path = `/v1/events/${eventId}/hold`;
  const event = apiClient(stack.api.url, first.token).v1.events[':eventId'];
  const held = await reply(event.hold.$post({ param: { eventId }, json: { seatIds: ['A-1-1', 'A-1-2'] }, header: {} }));
  expectOk(held, 201);

  const taken = await rejects(
    eventId,
    { method: 'POST', path, token: second.token, body: { seatIds: ['A-1-2', 'A-1-3'] } },
    409,
    'SEATS_UNAVAILABLE',
  );
  expect(taken.details.seatIds).toEqual(['A-1-2']);
  await rejects(eventId, { method: 'POST', path, token: first.token, body: { seatIds: ['A-2-1'] } }, 409, 'CHECKOUT_IN_PROGRESS');

  const paid = await reply(event.purchase.$post({ param: { eventId }, json: { holdId: held.body.holdId, paymentMethod: 'pm_card_visa' } }));
  expectOk(paid, 200);
  // Two seats bought already: two more would exceed three.
  const holdTwo = () => reply(event.hold.$post({ param: { eventId }, json: { quantity: 2 }, header: {} }));
  let again = await holdTwo();
  for (let i = 0; !again.ok && again.body.error.code === 'CHECKOUT_IN_PROGRESS' && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100)); // the confirmed checkout is still closing
    again = await holdTwo();
  }
  expectError(again, 422, 'LIMIT_EXCEEDED');
  seen.add('LIMIT_EXCEEDED');
});

test('purchase: unknown, foreign, ended and declined holds; oversized bodies', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const owner = await newBuyer(stack.api.url);
  const other = await newBuyer(stack.api.url);
  const event = apiClient(stack.api.url, owner.token).v1.events[':eventId'];
  const held = await reply(event.hold.$post({ param: { eventId }, json: { seatIds: ['A-3-3'] }, header: {} }));
  expectOk(held, 201);
  const path = `/v1/events/${eventId}/purchase`;
  const { holdId } = held.body;

  await rejects(
    eventId,
    { method: 'POST', path, token: owner.token, body: { holdId: 'hold_' + '0'.repeat(32), paymentMethod: 'pm_card_visa' } },
    404,
    'HOLD_NOT_FOUND',
  );
  await rejects(
    eventId,
    { method: 'POST', path, token: other.token, body: { holdId, paymentMethod: 'pm_card_visa' } },
    404,
    'HOLD_NOT_FOUND',
  );
  await rejects(eventId, { method: 'POST', path, token: owner.token, body: { holdId, paymentMethod: 'card' } }, 400, 'VALIDATION_FAILED');
  await rejects(eventId, { method: 'POST', path, token: owner.token, body: { holdId } }, 400, 'VALIDATION_FAILED');
  await rejects(
    eventId,
    { method: 'POST', path, token: owner.token, raw: JSON.stringify({ holdId, paymentMethod: 'pm_card_visa', pad: 'x'.repeat(10_000) }) },
    413,
    'PAYLOAD_TOO_LARGE',
  );
  await rejects(eventId, { method: 'DELETE', path: `/v1/events/${eventId}/hold/${holdId}`, token: other.token }, 404, 'HOLD_NOT_FOUND');

  // A decline records a declined payment, so it is checked without the fingerprint.
  const declined = await reply(event.purchase.$post({ param: { eventId }, json: { holdId, paymentMethod: 'pm_card_chargeDeclined' } }));
  expectError(declined, 402, 'PAYMENT_DECLINED');
  seen.add('PAYMENT_DECLINED');
  const seat = await stack.api.deps.pool.query(`SELECT status FROM seats WHERE event_id = $1 AND seat_id = 'A-3-3'`, [eventId]);
  expect(seat.rows[0].status).toBe('held');

  expectOk(await reply(event.hold[':holdId'].$delete({ param: { eventId, holdId } })), 200);
  await rejects(
    eventId,
    { method: 'POST', path, token: owner.token, body: { holdId, paymentMethod: 'pm_card_visa' } },
    410,
    'HOLD_EXPIRED',
  );
  await rejects(eventId, { method: 'DELETE', path: `/v1/events/${eventId}/hold/${holdId}`, token: owner.token }, 410, 'HOLD_EXPIRED');
});

test('every documented code of the hold and purchase paths was produced', () => {
  expect([...seen].sort()).toEqual(
    [
      'CHECKOUT_IN_PROGRESS',
      'EVENT_NOT_ON_SALE',
      'HOLD_EXPIRED',
      'HOLD_NOT_FOUND',
      'LIMIT_EXCEEDED',
      'NOT_ADMITTED',
      'NOT_FOUND',
      'PAYLOAD_TOO_LARGE',
      'PAYMENT_DECLINED',
      'SEATS_UNAVAILABLE',
      'UNAUTHENTICATED',
      'VALIDATION_FAILED',
    ].sort(),
  );
});
