/**
 * The buyer row is written when this process first sees a buyer win a hold,
 * not on every attempt: the losing path of a flash crowd writes nothing to
 * Postgres. (The waiting room's join and the development buyer endpoint also
 * write it, earlier.) The upsert is idempotent, so another process or a
 * forgotten entry writing it again is harmless.
 */
import type { Pool } from 'pg';
import { insertBuyer } from '../db/queries/buyers';
import type { Buyer } from '../services/buyer-tokens';

export class KnownBuyers {
  private readonly seen = new Map<string, true>();

  constructor(
    private readonly pool: Pool,
    private readonly capacity = 100_000,
  ) {}

  async ensure(buyer: Buyer): Promise<void> {
    if (this.seen.has(buyer.buyerId)) return;
    await insertBuyer(this.pool, { id: buyer.buyerId, name: buyer.name, email: buyer.email });
    this.seen.set(buyer.buyerId, true);
    // A Map iterates in insertion order: the first key is the oldest.
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value!);
  }
}
