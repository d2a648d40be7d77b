/** Seeds events and buyers straight into Postgres, for tests below the HTTP layer. */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { withTransaction } from '../db/pool';
import { insertBuyer } from '../db/queries/buyers';
import { type EventSpec, insertEvent } from '../db/queries/events';

export async function seedEvent(pool: Pool, o: Partial<EventSpec> & { state?: 'draft' | 'open' } = {}): Promise<string> {
  const id = `evt_${randomBytes(12).toString('base64url')}`;
  await withTransaction(pool, async (client) => {
    await insertEvent(client, {
      id,
      name: o.name ?? 'Seeded Event',
      onSaleAt: o.onSaleAt ?? new Date(Date.now() - 60_000),
      holdSeconds: o.holdSeconds ?? 300,
      maxSeatsPerBuyer: o.maxSeatsPerBuyer ?? 6,
      waitingRoom: o.waitingRoom ?? { enabled: false, maxActiveCheckouts: 100, admitPerMinute: 600 },
      sections: o.sections ?? [{ id: 'A', name: 'Floor A', rows: 4, seatsPerRow: 10, priceCents: 5000 }],
    });
    await client.query('UPDATE events SET state = $2 WHERE id = $1', [id, o.state ?? 'open']);
  });
  return id;
}

export async function seedBuyer(pool: Pool, name = 'Seeded Buyer'): Promise<string> {
  const id = `byr_${randomBytes(12).toString('base64url')}`;
  await insertBuyer(pool, { id, name, email: `${id.toLowerCase().replace(/[^a-z0-9]/g, '')}@buyers.onsale.test` });
  return id;
}
