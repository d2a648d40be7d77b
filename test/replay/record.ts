/**
 * Records real checkout histories from the running Temporal dev server into
 * test/replay/*.json, for replay.test.ts to replay against every later
 * version of the workflow code. Run with the stack up:
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx test/replay/record.ts [--prefix checkout-v1]
 *
 * Each history comes from a real API call path (the checkout's start, updates,
 * the real activities against Postgres and stripe-mock). Re-record only to add
 * cases: committed histories are the record of what production has run.
 */
import { checkoutWorkflowId } from '../../domain/ids';
import { refundWorkflowId } from '../../domain/refund';
import { request, newBuyer } from '../support/http';
import { seedEvent } from '../../harness/seed';
import { startApi, startWorker, testConfig } from '../../harness/stack';
import { historyWriter } from './history';

async function main(): Promise<void> {
  const config = testConfig({ LOG_LEVEL: 'warn' });
  const writeHistory = historyWriter(config, 'checkout-v1');
  const api = await startApi(config);
  const worker = await startWorker(config);
  const written: string[] = [];
  try {
    const eventId = await seedEvent(api.deps.pool, { name: 'Replay recording', holdSeconds: 300 });
    const shortEvent = await seedEvent(api.deps.pool, { name: 'Replay recording (short holds)', holdSeconds: 30 });

    async function save(name: string, buyerId: string, event = eventId, workflowId = checkoutWorkflowId(event, buyerId)): Promise<void> {
      const handle = api.deps.temporal.workflow.getHandle(workflowId);
      await handle.result();
      written.push(writeHistory(handle.workflowId, name));
    }

    const hold = (event: string, token: string, body: unknown, headers?: Record<string, string>) =>
      request(api.url, 'POST', `/v1/events/${event}/hold`, { token, body, ...(headers && { headers }) });
    const purchase = (event: string, token: string, holdId: string, paymentMethod: string) =>
      request(api.url, 'POST', `/v1/events/${event}/purchase`, { token, body: { holdId, paymentMethod } });
    const must = (r: { status: number; body: unknown }, status: number) => {
      if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as any;
    };

    // 2 (started first, saved last). hold, then the window ends with no purchase: the durable timer releases the seats
    const expiring = await newBuyer(api.url);
    must(await hold(shortEvent, expiring.token, { quantity: 2 }), 201);

    // 1. hold, then a successful purchase
    {
      const b = await newBuyer(api.url);
      const h = must(await hold(eventId, b.token, { seatIds: ['A-1-1', 'A-1-2'] }), 201);
      must(await purchase(eventId, b.token, h.holdId, 'pm_card_visa'), 200);
      await save('hold-purchase', b.buyerId);
    }
    // 3. a declined card, then a retry that succeeds within the same hold
    {
      const b = await newBuyer(api.url);
      const h = must(await hold(eventId, b.token, { quantity: 1 }), 201);
      must(await purchase(eventId, b.token, h.holdId, 'pm_card_chargeDeclined'), 402);
      must(await purchase(eventId, b.token, h.holdId, 'pm_card_visa'), 200);
      await save('decline-retry', b.buyerId);
    }
    // 4. hold, then the buyer lets go
    {
      const b = await newBuyer(api.url);
      const h = must(await hold(eventId, b.token, { seatIds: ['A-2-1'] }), 201);
      must(await request(api.url, 'DELETE', `/v1/events/${eventId}/hold/${h.holdId}`, { token: b.token }), 200);
      await save('release', b.buyerId);
    }
    // 5. a hold that fails on a taken seat, then succeeds, then is released
    {
      const a = await newBuyer(api.url);
      const b = await newBuyer(api.url);
      const ha = must(await hold(eventId, a.token, { seatIds: ['A-3-1'] }), 201);
      must(await hold(eventId, b.token, { seatIds: ['A-3-1', 'A-3-2'] }), 409);
      const hb = must(await hold(eventId, b.token, { seatIds: ['A-3-2'] }), 201);
      must(await request(api.url, 'DELETE', `/v1/events/${eventId}/hold/${hb.holdId}`, { token: b.token }), 200);
      must(await request(api.url, 'DELETE', `/v1/events/${eventId}/hold/${ha.holdId}`, { token: a.token }), 200);
      await save('hold-conflict-then-release', b.buyerId);
    }
    // 6. a card that needs authentication: 202 requires_action, the development issuer's challenge, the signed webhook
    const authenticate = (r: { body: any }, result: 'succeed' | 'fail') =>
      request(api.url, 'POST', String(r.body.nextAction.url).replace('/dev/', '/v1/dev/'), {
        body: { clientSecret: r.body.clientSecret, result },
      });
    {
      const b = await newBuyer(api.url);
      const h = must(await hold(eventId, b.token, { quantity: 1 }), 201);
      const action = await purchase(eventId, b.token, h.holdId, 'pm_card_authenticationRequired');
      must(action, 202);
      must(await authenticate(action, 'succeed'), 200);
      await save('authenticated-purchase', b.buyerId);
    }
    // 7. the seats are lost while the buyer authenticates: the success is refunded by the refund workflow
    {
      const b = await newBuyer(api.url);
      const rival = await newBuyer(api.url);
      const h = must(await hold(eventId, b.token, { seatIds: ['A-4-1'] }), 201);
      const action = await purchase(eventId, b.token, h.holdId, 'pm_card_threeDSecure2Required');
      must(action, 202);
      // The hold runs out in the database and in the claim gate (their ends coincide) while the bank is slow.
      await api.deps.pool.query(`UPDATE seats SET hold_expires_at = now() - interval '1 second' WHERE hold_id = $1`, [h.holdId]);
      await api.deps.seatClaims.drop(eventId, h.holdId);
      must(await hold(eventId, rival.token, { seatIds: ['A-4-1'] }), 201);
      must(await authenticate(action, 'succeed'), 200);
      await save('authenticated-then-refunded', b.buyerId);
      await save('refund', b.buyerId, eventId, refundWorkflowId((action.body as { paymentId: string }).paymentId));
    }
    await save('hold-expire', expiring.buyerId, shortEvent);
  } finally {
    await worker.stop();
    await api.stop();
  }
  process.stdout.write(`recorded:\n  ${written.join('\n  ')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
