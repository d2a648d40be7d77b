/** Migrations on a real, fresh Postgres database: in order, once, safe when two runners start together. */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPool } from '../../db/pool';
import { loadMigrations, migrate } from '../../db/migrate';
import { requireEnv } from '../../harness/runtime';

const adminUrl = requireEnv('DATABASE_URL');
const dbName = `onsale_mig_${randomBytes(4).toString('hex')}`;
const url = (() => {
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

beforeAll(async () => {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${dbName}`);
  await c.end();
});

afterAll(async () => {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await c.end();
});

test('two runners starting together apply every migration exactly once, in order', async () => {
  const a = createPool(url, { max: 2 });
  const b = createPool(url, { max: 2 });
  try {
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    const all = (await loadMigrations()).map((m) => m.version);
    expect([...ra, ...rb].sort((x, y) => x - y)).toEqual(all);
    const { rows } = await a.query('SELECT version FROM schema_migrations ORDER BY applied_at, version');
    expect(rows.map((r) => r.version)).toEqual(all);
    expect(await migrate(a)).toEqual([]);
    const tables = await a.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    expect(tables.rows.map((r) => r.tablename)).toEqual(
      expect.arrayContaining(['events', 'seats', 'holds', 'orders', 'order_seats', 'payments', 'notifications', 'queue_shuffles']),
    );
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
});

test('an applied migration that was edited afterwards is refused', async () => {
  const pool = createPool(url, { max: 1 });
  try {
    const migrations = await loadMigrations();
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
    await expect(migrate(pool, edited)).rejects.toThrow(/changed after it was applied/);
  } finally {
    await pool.end();
  }
});
