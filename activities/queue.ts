import { createHash } from 'node:crypto';
import type { EventLoad } from '../domain/admission';
import { enqueueNotification } from '../db/queries/notifications';
import { orderDigest } from '../platform/shuffle';
import type { ActivityDeps } from './deps';

export function createQueueActivities(deps: ActivityDeps) {
  const room = deps.waitingRoom;
  return {
    /** Seals the pre-queue at the on-sale time and records the shuffle's seed for audit. */
    async openQueue(input: { eventId: string }): Promise<{ prequeueSize: number; seed: string }> {
      await room.seal(input.eventId);
      const { seed, order } = await room.assignPrequeue(input.eventId);
      await room.setStatus(input.eventId, 'open');
      await deps.pool.query(
        `INSERT INTO queue_shuffles (event_id, seed, prequeue_size, order_digest) VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id) DO NOTHING`,
        [input.eventId, seed, order.length, orderDigest(order)],
      );
      return { prequeueSize: order.length, seed: createHash('sha256').update(seed).digest('hex').slice(0, 12) };
    },

    /** The event's load: queue counters from Redis, holds and seats from Postgres (the source of truth). */
    async readEventLoad(input: { eventId: string; nowMs: number }): Promise<EventLoad> {
      const [q, seats] = await Promise.all([
        room.snapshot(input.eventId, input.nowMs),
        deps.pool.query<{ available: number; held: number; holds: number }>(
          `SELECT count(*) FILTER (WHERE status = 'available' OR (status = 'held' AND hold_expires_at < now()))::int AS available,
                  count(*) FILTER (WHERE status = 'held' AND hold_expires_at >= now())::int AS held,
                  (SELECT count(*)::int FROM holds WHERE event_id = $1 AND status = 'active' AND expires_at >= now()) AS holds
             FROM seats WHERE event_id = $1`,
          [input.eventId],
        ),
      ]);
      const s = seats.rows[0]!;
      return {
        queueLength: q.queueLength,
        serving: q.serving,
        pending: q.pending,
        activeHolds: s.holds,
        seatsAvailable: s.available,
        seatsHeld: s.held,
        waitlistLength: q.waitlistLength,
      };
    },

    async admitThrough(input: { eventId: string; to: number; deadlineMs: number; ratePerMinute: number }): Promise<number> {
      return room.admitThrough(input.eventId, input.to, input.deadlineMs, input.ratePerMinute);
    },

    async setQueueStatus(input: { eventId: string; status: 'open' | 'paused' | 'sold_out' }): Promise<void> {
      await room.setStatus(input.eventId, input.status);
    },

    /** Offers returned seats to the waitlist in order, each with an e-mail. */
    async offerWaitlist(input: { eventId: string; seats: number; deadlineMs: number }): Promise<number> {
      const offered = await room.offerWaitlist(input.eventId, input.seats, input.deadlineMs);
      for (const o of offered) {
        await enqueueNotification(deps.pool, {
          dedupeKey: `waitlist_offer:${input.eventId}:${o.buyerId}:${input.deadlineMs}`,
          buyerId: o.buyerId,
          kind: 'waitlist_offer',
          payload: { eventId: input.eventId, quantity: o.quantity, expiresAt: new Date(input.deadlineMs).toISOString() },
        });
      }
      return offered.length;
    },
  };
}

