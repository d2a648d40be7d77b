import type { PoolClient } from 'pg';

/**
 * Records the seed and size of an event's pre-queue shuffle, once: with the
 * list of pre-queue arrivals, anyone can recompute the shuffled order.
 */
export async function recordShuffle(
  client: Pick<PoolClient, 'query'>,
  s: { eventId: string; seed: string; prequeueSize: number; orderDigest: string },
): Promise<void> {
  await client.query(
    `INSERT INTO queue_shuffles (event_id, seed, prequeue_size, order_digest) VALUES ($1, $2, $3, $4)
     ON CONFLICT (event_id) DO NOTHING`,
    [s.eventId, s.seed, s.prequeueSize, s.orderDigest],
  );
}
