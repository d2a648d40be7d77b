/**
 * Test harness over the real stack started by ./onsale test: real Postgres,
 * Redis, Temporal, stripe-mock and Mailpit. Each test file gets its own task
 * queue, so workers of different files never take each other's tasks.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { createPool } from '../../db/pool';
import { migrate } from '../../db/migrate';
import { createStripeClient } from '../../payments/stripe';
import { createBuyerTokens } from '../../platform/buyer-tokens';
import { type Config, loadConfig } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import { SeatCache } from '../../platform/seat-cache';
import { connectClient } from '../../platform/temporal';
import { WORKER_TUNING } from '../../workers/tuning';
import { createActivityDeps } from '../../workers/deps';
import { installQuietRuntime, quietLogger } from '../platform/env';

const ROOT = path.resolve(__dirname, '../..');

export function testConfig(overrides: Partial<Record<keyof Config, string>> = {}): Config {
  return loadConfig({
    LOG_LEVEL: 'warn',
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    ...process.env,
    ...overrides,
  });
}

function sourceHash(): string {
  const h = createHash('sha256');
  for (const dir of ['workflows', 'domain']) {
    for (const f of readdirSync(path.join(ROOT, dir)).sort()) {
      if (f.endsWith('.ts')) h.update(f).update(readFileSync(path.join(ROOT, dir, f)));
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** The production workflow bundle, built once per source version and reused across test files. */
export async function workflowBundle(): Promise<{ codePath: string }> {
  const dir = path.join(ROOT, '.state', 'bundles');
  const codePath = path.join(dir, `workflows-${sourceHash()}.js`);
  if (!existsSync(codePath)) {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
    mkdirSync(dir, { recursive: true });
    writeFileSync(codePath, code);
  }
  return { codePath };
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/** Starts a real worker with the real activities on the config's task queue. */
export async function startWorker(
  config: Config,
  opts: { connection?: NativeConnection; tuning?: Partial<typeof WORKER_TUNING> } = {},
): Promise<RunningWorker> {
  installQuietRuntime();
  const deps = createActivityDeps(config, createLogger('test-worker', 'warn'));
  const connection = opts.connection ?? (await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS }));
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities(deps),
    ...WORKER_TUNING,
    ...opts.tuning,
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      if (!opts.connection) await connection.close();
      await deps.close();
    },
  };
}

export interface RunningApi {
  url: string;
  deps: ApiDeps;
  stop(): Promise<void>;
}

let migrated: Promise<unknown> | null = null;

export async function migrateOnce(config: Config): Promise<void> {
  if (!migrated) {
    const pool = createPool(config.DATABASE_URL, { max: 1 });
    migrated = migrate(pool).finally(() => pool.end());
  }
  await migrated;
}

/** Serves the real app over real HTTP on an ephemeral port. */
export async function startApi(config: Config): Promise<RunningApi> {
  await migrateOnce(config);
  const pool = createPool(config.DATABASE_URL, { max: 30 });
  const redis = createRedis(config.REDIS_URL, 'test-api');
  const deps: ApiDeps = {
    config,
    logger: createLogger('test-api', 'warn'),
    pool,
    redis,
    seatCache: new SeatCache(redis, pool),
    temporal: await connectClient(config),
    buyerTokens: createBuyerTokens({
      mode: config.ONSALE_MODE,
      secret: config.BUYER_TOKEN_SECRET,
      issuer: config.BUYER_TOKEN_ISSUER,
      jwksUrl: config.BUYER_JWKS_URL,
    }),
    stripe: createStripeClient(config.STRIPE_SECRET_KEY, config.STRIPE_API_URL),
  };
  const app = createApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deps,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await Promise.allSettled([pool.end(), redis.quit(), deps.temporal.connection.close()]);
    },
  };
}
