/**
 * The per-card limit through real HTTP, a real worker, Postgres and
 * stripe-mock: a card (its fingerprint) pays for at most maxSeatsPerBuyer
 * seats of an event across every account that uses it. A refused purchase is
 * 422 LIMIT_EXCEEDED, charges nothing and keeps the hold for another card.
 */
import { reconcile } from '../../db/audit';
import { testConfig } from '../../harness/stack';
import { createPaymentProvider } from '../../payments';
import { testCardFingerprint } from '../../payments/test-cards';
import { call, createEvent, newBuyer } from '../support/http';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);
jest.setTimeout(90_000);

async function holdAs(eventId: string, seatIds: string[]) {
  const buyer = await newBuyer(stack.api.url);
  const hold = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, { token: buyer.token, body: { seatIds } });
  expect(hold.status).toBe(201);
  return { buyer, holdId: hold.body.holdId as string };
}

const pay = (eventId: string, h: { buyer: { token: string }; holdId: string }, paymentMethod: string) =>
  call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, { token: h.buyer.token, body: { holdId: h.holdId, paymentMethod } });

const charges = async (holdId: string) =>
  (await stack.api.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM payments WHERE hold_id = $1', [holdId])).rows[0]!.n;

test('test cards have fingerprints: a labelled card is one card across accounts, a bare one is each buyer’s own', () => {
  expect(testCardFingerprint('pm_card_visa__farm1', 'byr_a')).toBe(testCardFingerprint('pm_card_visa__farm1', 'byr_b'));
  expect(testCardFingerprint('pm_card_visa__farm1', 'byr_a')).not.toBe(testCardFingerprint('pm_card_visa__farm2', 'byr_a'));
  expect(testCardFingerprint('pm_card_visa', 'byr_a')).not.toBe(testCardFingerprint('pm_card_visa', 'byr_b'));
});

test('a card shared by two accounts pays for at most maxSeatsPerBuyer seats; another card then pays', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { maxSeatsPerBuyer: 4 });
  const first = await holdAs(eventId, ['A-1-1', 'A-1-2', 'A-1-3']);
  const second = await holdAs(eventId, ['A-2-1', 'A-2-2']);
  expect((await pay(eventId, first, 'pm_card_visa__shared')).status).toBe(200);

  const refused = await pay(eventId, second, 'pm_card_visa__shared');
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({
    code: 'LIMIT_EXCEEDED',
    details: { reason: 'seats_per_card', maxSeatsPerCard: 4, seatsOnCard: 3 },
  });
  expect(await charges(second.holdId)).toBe(0); // refused before anything was charged

  // The hold is kept: the same account pays with a card of its own.
  const checkout = await call(stack.api.url, 'GET', `/v1/events/${eventId}/checkout`, { token: second.buyer.token });
  expect(checkout.body.state).toBe('held');
  expect((await pay(eventId, second, 'pm_card_mastercard__own')).status).toBe(200);

  const report = await reconcile(stack.api.deps.pool, createPaymentProvider(config, stack.api.deps.pool), {
    eventIds: [eventId],
    pendingPaymentSeconds: 0,
  });
  expect(Object.entries(report.violations).filter(([, n]) => n > 0)).toEqual([]);
});

test('two accounts paying with one card at the same moment cannot both slip under the limit', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { maxSeatsPerBuyer: 4 });
  const holds = [await holdAs(eventId, ['A-1-1', 'A-1-2', 'A-1-3']), await holdAs(eventId, ['A-2-1', 'A-2-2', 'A-2-3'])];
  const answers = await Promise.all(holds.map((h) => pay(eventId, h, 'pm_card_visa__race')));
  expect(answers.map((a) => a.status).sort()).toEqual([200, 422]);
});

test('buyers paying with bare test cards are different cards; an event may turn the limit off', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { maxSeatsPerBuyer: 2 });
  const [a, b] = [await holdAs(eventId, ['A-1-1', 'A-1-2']), await holdAs(eventId, ['A-2-1', 'A-2-2'])];
  expect((await pay(eventId, a, 'pm_card_visa')).status).toBe(200);
  expect((await pay(eventId, b, 'pm_card_visa')).status).toBe(200);

  const open = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    maxSeatsPerBuyer: 2,
    waitingRoom: { enabled: false, cardLimit: false },
  });
  const [c, d] = [await holdAs(open, ['A-1-1', 'A-1-2']), await holdAs(open, ['A-2-1', 'A-2-2'])];
  expect((await pay(open, c, 'pm_card_visa__farm')).status).toBe(200);
  expect((await pay(open, d, 'pm_card_visa__farm')).status).toBe(200);
});

test('a live hold counts against its card until it is released', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { maxSeatsPerBuyer: 3 });
  const first = await holdAs(eventId, ['A-1-1', 'A-1-2', 'A-1-3']);
  // Declined by the bank: the card is recorded against the hold, which lives on for a retry.
  expect((await pay(eventId, first, 'pm_card_chargeDeclined__c9')).status).toBe(402);
  const second = await holdAs(eventId, ['A-2-1']);
  expect((await pay(eventId, second, 'pm_card_chargeDeclined__c9')).body.error.code).toBe('LIMIT_EXCEEDED');
  const released = await call(stack.api.url, 'DELETE', `/v1/events/${eventId}/hold/${first.holdId}`, { token: first.buyer.token });
  expect(released.status).toBe(200);
  // The limit lets it through now; the bank declines it as before.
  expect((await pay(eventId, second, 'pm_card_chargeDeclined__c9')).body.error.code).toBe('PAYMENT_DECLINED');
});
