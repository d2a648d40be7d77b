/**
 * The PostgreSQL started by scripts/stack.sh: the application's database
 * (DATABASE_URL) and the tests' own (TEST_DATABASE_URL) accept the onsale
 * role, which may create tables in both.
 */
import { Client } from 'pg';
import { requireEnv } from '../../harness/runtime';

describe.each(['DATABASE_URL', 'TEST_DATABASE_URL'])('PostgreSQL at %s', (variable) => {
  const url = variable === 'DATABASE_URL' ? requireEnv(variable) : process.env[variable];
  const maybe = url ? test : test.skip;

  maybe('accepts connections and DDL inside a transaction', async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ num: number }>("SELECT current_setting('server_version_num')::int AS num");
      expect(rows[0]!.num).toBeGreaterThanOrEqual(150000);
      await client.query('BEGIN');
      await client.query('CREATE TABLE platform_probe (id int PRIMARY KEY)');
      await client.query('INSERT INTO platform_probe VALUES (1)');
      await expect(client.query('INSERT INTO platform_probe VALUES (1)')).rejects.toThrow(/duplicate key/);
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
  });
});
