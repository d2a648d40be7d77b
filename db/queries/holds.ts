/**
 * Hold lifetimes in the database, for payments in flight. The function here
 * changes only `seats.hold_expires_at` of seats the hold already owns (never a
 * seat's status, holder or order), so it cannot move a seat between buyers.
 */
import type { PoolClient } from 'pg';

export interface HoldExtension {
  /** True when the hold still owned every one of its seats and now keeps them until `expiresAt`. */
  owned: boolean;
  expiresAt: Date | null;
}

/**
 * Keeps a hold's seats for at least `seconds` more, in one statement, only if
 * the hold is active and still owns every one of its seats with its window
 * (plus grace) not yet passed. A hold whose seats another buyer took, or that
 * expired in the database, is not extended and nothing should be charged for it.
 * Never shortens a hold.
 */
export async function extendHoldForPayment(client: Pick<PoolClient, 'query'>, holdId: string, seconds: number): Promise<HoldExtension> {
  const { rows } = await client.query<{ owned: boolean; expires_at: Date | null }>(
    `WITH h AS (
       SELECT id, event_id, seat_ids FROM holds WHERE id = $1 AND status = 'active' FOR UPDATE),
     owned AS (
       SELECT s.seat_id FROM seats s JOIN h ON s.event_id = h.event_id AND s.seat_id = ANY(h.seat_ids)
        WHERE s.hold_id = h.id AND s.status = 'held' AND s.hold_expires_at >= now()
        FOR UPDATE OF s),
     ok AS (SELECT h.* FROM h WHERE (SELECT count(*) FROM owned) = cardinality(h.seat_ids)),
     seats_kept AS (
       UPDATE seats s SET hold_expires_at = greatest(s.hold_expires_at, now() + make_interval(secs => $2))
         FROM ok WHERE s.event_id = ok.event_id AND s.seat_id = ANY(ok.seat_ids) AND s.hold_id = ok.id AND s.status = 'held'
       RETURNING s.seat_id),
     hold_kept AS (
       UPDATE holds SET expires_at = greatest(holds.expires_at, now() + make_interval(secs => $2))
         FROM ok WHERE holds.id = ok.id
       RETURNING holds.expires_at)
     SELECT EXISTS (SELECT 1 FROM ok) AND (SELECT count(*) FROM seats_kept) > 0 AS owned,
            (SELECT expires_at FROM hold_kept) AS expires_at`,
    [holdId, seconds],
  );
  const r = rows[0]!;
  return { owned: r.owned, expiresAt: r.expires_at };
}
