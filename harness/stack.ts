/**
 * The real system in this process, for tests, benchmarks and recorders: a
 * worker with the production bundle and real activities, and the real API on
 * an ephemeral port, over the stack started by ./onsale (Postgres, Redis,
 * Temporal, stripe-mock, Mailpit). Each config gets its own task queue, so
 * workers of different runs never take each other's tasks.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { type ApiDeps, buildApiDeps, keepConnectionsAlive } from '../api/deps';
import { type ApiListener, createApiListener } from '../api/listener';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { type Config, loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { WORKER_TUNING } from '../workers/tuning';
import { createActivityDeps } from '../workers/deps';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../workers/workflow-code';
import { installQuietRuntime, quietLogger } from './runtime';

const ROOT = path.resolve(__dirname, '..');

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
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
      logger: quietLogger,
    });
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
  /** The app and how many polls its fast path answered. */
  api: ApiListener;
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

/** The API in this process on a free loopback port, served as api/server.ts serves it (fast path off when told). */
export async function startApi(config: Config, opts: { fastPath?: boolean } = {}): Promise<RunningApi> {
  await migrateOnce(config);
  const deps = await buildApiDeps(config, createLogger('test-api', 'warn'), { poolSize: 30, name: 'test-api' });
  const { pool, redis } = deps;
  const api = await createApiListener(deps, opts);
  const server = createServer(api.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  keepConnectionsAlive(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deps,
    api,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await Promise.allSettled([pool.end(), redis.quit(), deps.temporal.connection.close()]);
    },
  };
}
