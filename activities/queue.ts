import { createHash } from 'node:crypto';
import type { EventLoad } from '../domain/admission';
import type { RoomStatus } from '../domain/queue';
import { enqueueNotification } from '../db/queries/notifications';
import { recordShuffle } from '../db/queries/queue';
import { countActiveHolds } from '../db/queries/seats';
import { orderDigest } from '../services/shuffle';
import type { ActivityDeps } from './deps';

export function createQueueActivities(deps: ActivityDeps) {
  const room = deps.waitingRoom;
  return {
    /** Seals the pre-queue at the on-sale time and records the shuffle's seed for audit. */
    async openQueue(input: { eventId: string }): Promise<{ prequeueSize: number; seed: string }> {
      await room.seal(input.eventId);
      const { seed, order } = await room.assignPrequeue(input.eventId);
      await room.setStatus(input.eventId, 'open');
      await recordShuffle(deps.pool, { eventId: input.eventId, seed, prequeueSize: order.length, orderDigest: orderDigest(order) });
      return { prequeueSize: order.length, seed: createHash('sha256').update(seed).digest('hex').slice(0, 12) };
    },

    /**
     * The event's load, every tick, from Redis: queue counters, the seat cache's
     * counts (which follow every committed seat change) and the live claims of
     * the claim gate. Only when the gate is not built does the count of live
     * holds come from Postgres, by index; the seat table is never scanned here.
     */
    async readEventLoad(input: { eventId: string; nowMs: number }): Promise<EventLoad> {
      const [q, counts, claims] = await Promise.all([
        room.snapshot(input.eventId, input.nowMs),
        deps.seatCache.counts(input.eventId),
        deps.seatClaims.activeHolds(input.eventId).catch(() => null),
      ]);
      const activeHolds = claims ?? (await countActiveHolds(deps.pool, input.eventId));
      return {
        queueLength: q.queueLength,
        serving: q.serving,
        pending: q.pending,
        activeHolds,
        seatsAvailable: counts.available,
        seatsHeld: counts.held,
        waitlistLength: q.waitlistLength,
      };
    },

    async admitThrough(input: { eventId: string; to: number; deadlineMs: number; ratePerMinute: number }): Promise<number> {
      return room.admitThrough(input.eventId, input.to, input.deadlineMs, input.ratePerMinute);
    },

    async setQueueStatus(input: { eventId: string; status: RoomStatus }): Promise<void> {
      await room.setStatus(input.eventId, input.status);
    },

    /** The controller is going to sleep: false if someone joined meanwhile (then it must stay awake). */
    async markAsleep(input: { eventId: string; sleepMs: number }): Promise<boolean> {
      return room.markAsleep(input.eventId, input.sleepMs);
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
