import type { PoolClient } from 'pg';

export interface BuyerRow {
  id: string;
  name: string;
  email: string;
}

export async function insertBuyer(client: Pick<PoolClient, 'query'>, buyer: BuyerRow): Promise<void> {
  await client.query('INSERT INTO buyers (id, name, email) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [
    buyer.id,
    buyer.name,
    buyer.email,
  ]);
}

export async function findBuyer(client: Pick<PoolClient, 'query'>, id: string): Promise<BuyerRow | null> {
  const { rows } = await client.query<BuyerRow>('SELECT id, name, email FROM buyers WHERE id = $1', [id]);
  return rows[0] ?? null;
}
