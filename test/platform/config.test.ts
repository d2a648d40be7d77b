/** Bad configuration stops a process with one clear line naming the variable. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../platform/config';

const valid = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  STRIPE_SECRET_KEY: 'sk_test_123',
  STRIPE_WEBHOOK_SECRET: 'whsec_abc',
  SMTP_URL: 'smtp://127.0.0.1:1025',
  ADMIN_TOKEN: 'a'.repeat(32),
  BUYER_TOKEN_SECRET: 'b'.repeat(32),
  ADMISSION_TOKEN_SECRET: 'c'.repeat(32),
};

test.each([
  [{ REDIS_URL: 'http://nope' }, 'invalid configuration: REDIS_URL must be a URL with scheme redis: or rediss:'],
  [{ DATABASE_URL: undefined }, 'invalid configuration: DATABASE_URL is required'],
  [{ API_PORT: '70000' }, 'invalid configuration: API_PORT'],
  [{ ADMIN_TOKEN: 'short' }, 'invalid configuration: ADMIN_TOKEN must be at least 16 characters'],
  [{ TEMPORAL_ADDRESS: 'localhost' }, 'invalid configuration: TEMPORAL_ADDRESS must be host:port'],
  [{ ONSALE_MODE: 'production' }, 'invalid configuration: BUYER_JWKS_URL is required in production mode'],
])('%j is refused with a message naming the variable', (bad, message) => {
  expect(() => loadConfig({ ...valid, ...bad })).toThrow(ConfigError);
  expect(() => loadConfig({ ...valid, ...bad })).toThrow(message);
});

test('a valid environment loads, with development defaults', () => {
  const c = loadConfig(valid);
  expect(c.ONSALE_MODE).toBe('development');
  expect(c.PAYMENT_PROVIDER).toBe('test-cards');
  expect(c.API_PORT).toBe(3000);
});

test('the API process prints one line and exits 2 on bad configuration', async () => {
  const root = path.resolve(__dirname, '../..');
  const run = promisify(execFile);
  const env = { PATH: process.env.PATH!, HOME: process.env.HOME!, ...valid, REDIS_URL: 'mysql://x' };
  const failure = await run(path.join(root, 'node_modules/.bin/tsx'), ['api/server.ts'], { cwd: root, env }).then(
    () => null,
    (err: { code: number; stderr: string }) => err,
  );
  expect(failure?.code).toBe(2);
  expect(failure?.stderr.trim().split('\n')).toEqual(['invalid configuration: REDIS_URL must be a URL with scheme redis: or rediss:']);
});
