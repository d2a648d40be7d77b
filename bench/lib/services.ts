/**
 * The system under test, on this machine: the real API process (api/server.ts)
 * and the real Temporal workers (production bundle and the empty baseline),
 * each in a child process so the load generator does not share their event loops.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '../../platform/config';
import { type AppEntry, AppProcess, freePort, ROOT } from '../../harness/processes';
import { installQuietRuntime, quietLogger } from '../../harness/runtime';
import { migrateOnce, type RunningWorker, startWorker, testConfig } from '../../harness/stack';
import type { WORKER_TUNING } from '../../workers/tuning';

export function benchConfig(): Config {
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'TEMPORAL_ADDRESS', 'ADMIN_TOKEN']) {
    if (!process.env[name]) {
      throw new Error(`${name} is not set: run ./onsale stack up, then: set -a; source .state/stack.env; set +a`);
    }
  }
  return testConfig({ TEMPORAL_TASK_QUEUE: `bench-${randomUUID().slice(0, 8)}`, LOG_LEVEL: 'warn' });
}

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The configuration as the environment of a child process. */
function settingsOf(config: Config): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}

/**
 * Starts api/server.ts (of `root`, this checkout by default; or another script that serves the API, such as
 * bench/read-floor.ts) as its own process group on a free loopback port and waits until it is ready.
 */
export async function startApiProcess(
  config: Config,
  extraEnv: Record<string, string> = {},
  root = ROOT,
  script: AppEntry = 'api/server.ts',
): Promise<ApiProcess> {
  await migrateOnce(config);
  const port = await freePort();
  const api = new AppProcess(
    'bench-api',
    script,
    {
      ...settingsOf(config),
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      LOG_LEVEL: 'warn',
      // The load generator plays the CDN in front of the API: it names each simulated client's address in
      // X-Forwarded-For, so per-address limits see many clients instead of one loopback address.
      TRUST_PROXY_HOPS: '1',
      ...extraEnv,
    },
    undefined,
    root,
  );
  await api.start();
  return {
    url: `http://127.0.0.1:${port}`,
    pid: api.pid!,
    stop: () => api.terminate(process.env.ONSALE_CHILD_NODE_FLAGS ? 60_000 : 12_000),
  };
}

export interface Workers {
  /** Task queue of the production checkout workflows. */
  taskQueue: string;
  /** Task queue of the empty baseline workflow. */
  emptyTaskQueue: string;
  /** The workers' process (its own process group). */
  pid: number;
  stop(): Promise<void>;
}

async function emptyBundle(): Promise<{ code: string }> {
  const source = readFileSync(path.join(ROOT, 'bench/workflows.ts'));
  const file = path.join(ROOT, '.state/bundles', `bench-empty-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, code);
  return { code };
}

/**
 * The real worker (production bundle, real activities) and the empty-workflow worker in this process, sharing one
 * connection; `tuning` overrides the production worker's WORKER_TUNING (to measure a different setting beside it).
 * bench/temporal-worker.ts runs them so; a benchmark starts that process with startWorkers.
 */
export async function startWorkersHere(config: Config, tuning: Partial<typeof WORKER_TUNING> = {}): Promise<Omit<Workers, 'pid'>> {
  installQuietRuntime();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const real: RunningWorker = await startWorker(config, { connection, tuning });
  const emptyTaskQueue = `${config.TEMPORAL_TASK_QUEUE}-empty`;
  const empty = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: emptyTaskQueue,
    workflowBundle: await emptyBundle(),
    maxConcurrentWorkflowTaskExecutions: 100,
    maxCachedWorkflows: 5000,
  });
  const emptyRun = empty.run();
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    emptyTaskQueue,
    async stop() {
      if (empty.getState() === 'RUNNING') empty.shutdown();
      await Promise.allSettled([emptyRun, real.stop()]);
      await connection.close();
    },
  };
}

/**
 * The real worker and the empty-workflow worker in their own process (bench/temporal-worker.ts) with the
 * benchmark's settings, so the load generator never shares their event loop: a worker starved by the process
 * that floods the API makes every workflow task wait, and the benchmark would measure its own load.
 */
export async function startWorkers(config: Config, tuning: Partial<typeof WORKER_TUNING> = {}): Promise<Workers> {
  const worker = new AppProcess('bench-worker', 'bench/temporal-worker.ts', {
    ...settingsOf(config),
    LOG_LEVEL: 'warn',
    ...(Object.keys(tuning).length > 0 && { BENCH_WORKER_TUNING: JSON.stringify(tuning) }),
  });
  await worker.start();
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    emptyTaskQueue: `${config.TEMPORAL_TASK_QUEUE}-empty`,
    pid: worker.pid!,
    stop: () => worker.terminate(process.env.ONSALE_CHILD_NODE_FLAGS ? 60_000 : 30_000),
  };
}
