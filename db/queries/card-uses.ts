import type { PoolClient } from 'pg';

/** Whether the hold's event limits seats per card, and how many seats the hold pays for. */
export async function cardLimitOfHold(
  client: Pick<PoolClient, 'query'>,
  holdId: string,
): Promise<{ eventId: string; cardLimit: boolean; maxSeats: number; seats: number } | null> {
  const { rows } = await client.query<{ event_id: string; card_limit: boolean; max_seats_per_buyer: number; seats: number }>(
    `SELECT h.event_id, e.card_limit, e.max_seats_per_buyer, cardinality(h.seat_ids) AS seats
       FROM holds h JOIN events e ON e.id = h.event_id WHERE h.id = $1`,
    [holdId],
  );
  const r = rows[0];
  return r ? { eventId: r.event_id, cardLimit: r.card_limit, maxSeats: r.max_seats_per_buyer, seats: r.seats } : null;
}

/**
 * Records that `holdId` is paid with the card `fingerprint`, unless the card
 * would then pay for more than `maxSeats` seats of the event across every
 * account: seats of holds bought with it (orders not refunded) and of live
 * holds being paid with it. One transaction under a lock per card and event,
 * so two accounts paying with one card at once cannot both slip under the
 * limit. Idempotent: the hold's own earlier record is replaced, never counted.
 */
export async function claimCardUse(
  client: Pick<PoolClient, 'query'>,
  u: { eventId: string; holdId: string; fingerprint: string; seats: number; maxSeats: number },
): Promise<{ ok: boolean; seatsOnCard: number }> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 727274007))', [`${u.eventId}/${u.fingerprint}`]);
  const { rows } = await client.query<{ n: number }>(
    `SELECT coalesce(sum(u.seat_count), 0)::int AS n
       FROM card_uses u JOIN holds h ON h.id = u.hold_id
      WHERE u.event_id = $1 AND u.fingerprint = $2 AND u.hold_id <> $3
        AND (h.status = 'purchased' OR (h.status = 'active' AND h.expires_at > now()))
        AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.hold_id = u.hold_id AND o.status = 'refunded')`,
    [u.eventId, u.fingerprint, u.holdId],
  );
  const seatsOnCard = rows[0]!.n;
  if (seatsOnCard + u.seats > u.maxSeats) return { ok: false, seatsOnCard };
  await client.query(
    `INSERT INTO card_uses (hold_id, event_id, fingerprint, seat_count) VALUES ($1, $2, $3, $4)
     ON CONFLICT (hold_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, seat_count = EXCLUDED.seat_count`,
    [u.holdId, u.eventId, u.fingerprint, u.seats],
  );
  return { ok: true, seatsOnCard };
}
