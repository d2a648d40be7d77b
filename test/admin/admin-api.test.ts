/**
 * The organiser's and support staff's API through real HTTP, a real worker,
 * Postgres, Redis and stripe-mock: the event list with counts and revenue,
 * order search, a refund that puts the seats back on sale and offers them to
 * the waitlist first, resending a confirmation, and the record of who did it.
 */
import { call } from '../support/http';
import { testConfig } from '../../harness/stack';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);
const admin = { token: config.ADMIN_TOKEN, headers: { 'x-admin-actor': 'Rosa Support' } };

async function buyer(name: string, email: string) {
  const r = await call(stack.api.url, 'POST', '/v1/dev/buyers', { body: { name, email } });
  expect(r.status).toBe(201);
  return r.body as { buyerId: string; token: string };
}

/** Joins the queue and polls until admitted; answers the admission token. */
async function admitted(eventId: string, token: string): Promise<string> {
  await call(stack.api.url, 'POST', `/v1/events/${eventId}/queue`, { token, body: {} });
  for (let i = 0; i < 100; i++) {
    const me = await call(stack.api.url, 'GET', `/v1/events/${eventId}/queue/me`, { token });
    if (me.body.admissionToken) return me.body.admissionToken as string;
    await new Promise((r) => setTimeout(r, 600)); // within the per-buyer status rate limit
  }
  throw new Error('never admitted');
}

test('list, search, refund to the waitlist first, resend, and every action recorded', async () => {
  const startsAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const created = await call(stack.api.url, 'POST', '/v1/admin/events', {
    ...admin,
    body: {
      name: 'Refund Rehearsal',
      venue: 'Hall 7',
      startsAt,
      description: 'Two seats, one buyer, one waitlist.',
      maxSeatsPerBuyer: 2,
      waitingRoom: { enabled: true, admitPerMinute: 6000 },
      sections: [{ id: 'A', name: 'Front', rows: 1, seatsPerRow: 2, priceCents: 4000 }],
    },
    headers: { ...admin.headers, 'x-request-id': 'create-refund-rehearsal-1' },
  });
  expect(created.status).toBe(201);
  expect(created.headers.get('x-request-id')).toBe('create-refund-rehearsal-1');
  const { eventId } = created.body;
  expect((await call(stack.api.url, 'POST', `/v1/admin/events/${eventId}/open`, admin)).status).toBe(200);

  const event = await call(stack.api.url, 'GET', `/v1/events/${eventId}`);
  expect(event.body).toMatchObject({ venue: 'Hall 7', startsAt, description: 'Two seats, one buyer, one waitlist.' });

  // A buyer is admitted, holds both seats and pays.
  const ada = await buyer('Ada', 'Ada.Buyer@example.test');
  const admission = await admitted(eventId, ada.token);
  const hold = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, {
    token: ada.token,
    body: { seatIds: ['A-1-1', 'A-1-2'] },
    headers: { 'x-admission-token': admission },
  });
  expect(hold.status).toBe(201);
  const paid = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: ada.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect(paid.status).toBe(200);
  const { orderId } = paid.body;

  // Sold out: a second buyer waits on the waitlist.
  const bob = await buyer('Bob', 'bob@example.test');
  const wl = await call(stack.api.url, 'POST', `/v1/events/${eventId}/waitlist`, { token: bob.token, body: { quantity: 1 } });
  expect(wl.status).toBe(201);

  // The organiser's list shows the event with counts and revenue.
  const list = await call(stack.api.url, 'GET', '/v1/admin/events?status=sold_out&limit=100', admin);
  expect(list.status).toBe(200);
  const row = list.body.events.find((e: any) => e.eventId === eventId);
  expect(row).toMatchObject({ name: 'Refund Rehearsal', venue: 'Hall 7', status: 'sold_out', revenueCents: 8000 });
  expect(row.counts).toEqual({ available: 0, held: 0, sold: 2 });
  const onSale = await call(stack.api.url, 'GET', '/v1/admin/events?status=on_sale&limit=100', admin);
  expect(onSale.body.events.map((e: any) => e.eventId)).not.toContain(eventId);

  // Support finds the order by e-mail (any case) and by buyer; another e-mail finds nothing.
  const byEmail = await call(stack.api.url, 'GET', `/v1/admin/events/${eventId}/orders?email=ada.buyer@EXAMPLE.test`, admin);
  expect(byEmail.status).toBe(200);
  expect(byEmail.body.orders).toHaveLength(1);
  expect(byEmail.body.orders[0]).toMatchObject({ orderId, buyerId: ada.buyerId, status: 'confirmed', amountCents: 8000 });
  expect(byEmail.body.orders[0].temporalUrl).toContain(encodeURIComponent(`checkout:${eventId}:${ada.buyerId}`));
  const nobody = await call(stack.api.url, 'GET', `/v1/admin/events/${eventId}/orders?email=bob@example.test`, admin);
  expect(nobody.body.orders).toHaveLength(0);
  const badCursor = await call(stack.api.url, 'GET', `/v1/admin/events/${eventId}/orders?cursor=bm90LWEtY3Vyc29y`, admin);
  expect(badCursor.status).toBe(400);
  expect(badCursor.body.error.code).toBe('VALIDATION_FAILED');

  // Refund: the charge is refunded, the seats are back on sale and the waitlist is offered them first.
  const refund = await call(stack.api.url, 'POST', `/v1/admin/orders/${orderId}/refund`, admin);
  expect(refund.status).toBe(200);
  expect(refund.body).toMatchObject({ orderId, status: 'refunded', seatIds: ['A-1-1', 'A-1-2'], waitlistOffers: 1 });
  const seats = await call(stack.api.url, 'GET', `/v1/events/${eventId}/seats`);
  expect(seats.body.seats.map((s: any) => s.status)).toEqual(['available', 'available']);
  const bobNow = await call(stack.api.url, 'GET', `/v1/events/${eventId}/queue/me`, { token: bob.token });
  expect(bobNow.body.status).toBe('admitted');
  expect(bobNow.body.admissionToken).toEqual(expect.any(String));
  const { pool } = stack.api.deps;
  const pay = await pool.query('SELECT p.status FROM payments p JOIN orders o ON o.payment_id = p.id WHERE o.id = $1', [orderId]);
  expect(pay.rows[0].status).toBe('refunded');
  const mail = await pool.query(`SELECT kind FROM notifications WHERE buyer_id = $1 ORDER BY id`, [ada.buyerId]);
  expect(mail.rows.map((r) => r.kind)).toContain('order_refunded');
  const order = await call(stack.api.url, 'GET', `/v1/orders/${orderId}`, { token: ada.token });
  expect(order.body.status).toBe('refunded');

  // Idempotent: asking again changes nothing and charges nothing back twice.
  const again = await call(stack.api.url, 'POST', `/v1/admin/orders/${orderId}/refund`, admin);
  expect(again.status).toBe(200);
  expect(again.body.status).toBe('refunded');
  const refunds = await pool.query(`SELECT count(*)::int AS n FROM notifications WHERE kind = 'order_refunded' AND buyer_id = $1`, [
    ada.buyerId,
  ]);
  expect(refunds.rows[0].n).toBe(1);

  // The seat can be sold again: Bob's offer lets him hold and buy one.
  const bobHold = await call(stack.api.url, 'POST', `/v1/events/${eventId}/hold`, {
    token: bob.token,
    body: { seatIds: ['A-1-1'] },
    headers: { 'x-admission-token': bobNow.body.admissionToken },
  });
  expect(bobHold.status).toBe(201);
  const bobPaid = await call(stack.api.url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: bob.token,
    body: { holdId: bobHold.body.holdId, paymentMethod: 'pm_card_visa' },
  });
  expect(bobPaid.status).toBe(200);

  // Resend: a refunded order has no confirmation to resend; a confirmed one is queued once per request id.
  const refused = await call(stack.api.url, 'POST', `/v1/admin/orders/${orderId}/resend-confirmation`, admin);
  expect(refused.status).toBe(409);
  const resend = { ...admin, headers: { ...admin.headers, 'x-request-id': `resend-${bobPaid.body.orderId}` } };
  const r1 = await call(stack.api.url, 'POST', `/v1/admin/orders/${bobPaid.body.orderId}/resend-confirmation`, resend);
  const r2 = await call(stack.api.url, 'POST', `/v1/admin/orders/${bobPaid.body.orderId}/resend-confirmation`, resend);
  expect([r1.status, r1.body.queued, r2.status, r2.body.queued]).toEqual([202, true, 202, false]);

  // Who did what, when.
  const actions = await call(stack.api.url, 'GET', `/v1/admin/actions?eventId=${eventId}`, admin);
  const done = actions.body.actions.map((a: any) => `${a.action} ${a.status}`).reverse();
  expect(done).toEqual([
    'event.create 201',
    'event.open 200',
    'order.refund 200',
    'order.refund 200',
    'order.resend-confirmation 409',
    'order.resend-confirmation 202',
    'order.resend-confirmation 202',
  ]);
  expect(actions.body.actions[0].actor).toMatch(/^admin:[0-9a-f]{12} \(Rosa Support\)$/);
  expect(JSON.stringify(actions.body)).not.toContain(config.ADMIN_TOKEN);
  const createdAction = actions.body.actions.at(-1);
  expect(createdAction).toMatchObject({ requestId: 'create-refund-rehearsal-1', details: { name: 'Refund Rehearsal', seatCount: 2 } });
});

test('the public list shows events on sale, pages with a cursor, and rejects a forged cursor', async () => {
  const ids: string[] = [];
  for (const name of ['Page One', 'Page Two', 'Page Three']) {
    const r = await call(stack.api.url, 'POST', '/v1/admin/events', {
      ...admin,
      body: {
        name,
        venue: 'Arena',
        waitingRoom: { enabled: false },
        sections: [{ id: 'A', name: 'A', rows: 1, seatsPerRow: 2, priceCents: 100 }],
      },
    });
    ids.push(r.body.eventId);
    await call(stack.api.url, 'POST', `/v1/admin/events/${r.body.eventId}/open`, admin);
  }
  const draft = await call(stack.api.url, 'POST', '/v1/admin/events', {
    ...admin,
    body: { name: 'Not yet', sections: [{ id: 'A', name: 'A', rows: 1, seatsPerRow: 1, priceCents: 100 }] },
  });
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 200; page++) {
    const r = await call(stack.api.url, 'GET', `/v1/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    expect(r.body.events.length).toBeLessThanOrEqual(2);
    seen.push(...r.body.events.map((e: any) => e.eventId));
    cursor = r.body.nextCursor;
    if (!cursor || ids.every((id) => seen.includes(id))) break;
  }
  expect(seen).toEqual(expect.arrayContaining(ids));
  expect(seen).not.toContain(draft.body.eventId);
  expect(new Set(seen).size).toBe(seen.length);
  // Newest first.
  expect(seen.indexOf(ids[2]!)).toBeLessThan(seen.indexOf(ids[0]!));
  const forged = await call(stack.api.url, 'GET', `/v1/events?cursor=${Buffer.from('["x","y"]').toString('base64url')}`);
  expect(forged.status).toBe(400);
  const unauth = await call(stack.api.url, 'GET', '/v1/admin/events');
  expect(unauth.status).toBe(401);
  const badVenue = await call(stack.api.url, 'POST', '/v1/admin/events', {
    ...admin,
    body: { name: 'x', venue: '', sections: [{ id: 'A', name: 'A', rows: 1, seatsPerRow: 1, priceCents: 1 }] },
  });
  expect(badVenue.status).toBe(400);
});
