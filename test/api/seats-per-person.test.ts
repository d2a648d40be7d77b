/**
 * Seats per verified person through real HTTP, a real worker, Redis and
 * Postgres: accounts whose buyer tokens carry the same verified_id share one
 * maxSeatsPerBuyer for the event, counted at hold time. A refusal is 422
 * LIMIT_EXCEEDED (reason seats_per_identity) and gives the claimed seats back.
 */
import { testConfig } from '../../harness/stack';
import { call, createEvent } from '../support/http';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);
jest.setTimeout(90_000);

async function account(verifiedIdentity?: string): Promise<string> {
  const made = await call(stack.api.url, 'POST', '/v1/dev/buyers', {
    body: { name: 'Fan', ...(verifiedIdentity && { verifiedIdentity }) },
  });
  expect(made.status).toBe(201);
  return made.body.token as string;
}

const hold = (eventId: string, token: string, seatIds: string[]) =>
  call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token, body: { seatIds } });

test('two accounts of one person hold at most maxSeatsPerBuyer between them; the refused seats stay on sale', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { maxSeatsPerBuyer: 4 });
  const who = `idv_h16_${Date.now().toString(36)}`;
  const [first, second] = [await account(who), await account(who)];

  const bought = await hold(eventId, first, ['A-1-1', 'A-1-2', 'A-1-3']);
  expect(bought.status).toBe(201);
  const paid = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: first,
    body: { holdId: bought.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect(paid.status).toBe(200);

  const refused = await hold(eventId, second, ['A-2-1', 'A-2-2']);
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({
    code: 'LIMIT_EXCEEDED',
    details: { reason: 'seats_per_identity', maxSeatsPerBuyer: 4, seatsOfIdentity: 3, requested: 2 },
  });
  // The claim gate let the refused seats go: someone else holds them at once.
  expect((await hold(eventId, await account(), ['A-2-1', 'A-2-2'])).status).toBe(201);
  // The person's last seat, on either account.
  expect((await hold(eventId, second, ['A-3-1'])).status).toBe(201);
  // Another person is not affected.
  expect((await hold(eventId, await account(`${who}_other`), ['A-4-1', 'A-4-2', 'A-4-3', 'A-4-4'])).status).toBe(201);
});
