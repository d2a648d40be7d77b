/**
 * The system under test, on this machine: the real API process (api/server.ts)
 * and the real Temporal workers (production bundle and the empty baseline), each
 * in a child process so the load generator does not share their event loops.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Config } from '../../platform/config';
import { AppProcess, freePort, ROOT } from '../../harness/processes';
import { quietLogger } from '../../harness/runtime';
import { migrateOnce, testConfig } from '../../harness/stack';

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

/** Starts api/server.ts as its own process group on a free loopback port and waits until it is ready. */
export async function startApiProcess(config: Config, extraEnv: Record<string, string> = {}): Promise<ApiProcess> {
  await migrateOnce(config);
  const port = await freePort();
  const api = new AppProcess('bench-api', 'api/server.ts', {
    ...settingsOf(config),
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    LOG_LEVEL: 'warn',
    // The load generator plays the CDN in front of the API: it names each simulated client's address in
    // X-Forwarded-For, so per-address limits see many clients instead of one loopback address.
    TRUST_PROXY_HOPS: '1',
    ...extraEnv,
  });
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

export async function emptyBundle(): Promise<{ code: string }> {
  const source = readFileSync(path.join(ROOT, 'bench/workflows.ts'));
  const file = path.join(ROOT, '.state/bundles', `bench-empty-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, code);
  return { code };
}

/** The empty-workflow worker's tuning: the same slots and cache as the real worker's, so the baseline is not starved. */
export const EMPTY_WORKER_TUNING = { maxConcurrentWorkflowTaskExecutions: 100, maxCachedWorkflows: 5000 };

/**
 * The real worker (production bundle, real activities) and the empty-workflow worker, sharing one
 * connection in their own process (bench/worker-process.ts) with the benchmark's settings.
 */
export async function startWorkers(config: Config): Promise<Workers> {
  const worker = new AppProcess('bench-worker', 'bench/worker-process.ts', { ...settingsOf(config), LOG_LEVEL: 'warn' });
  await worker.start();
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    emptyTaskQueue: `${config.TEMPORAL_TASK_QUEUE}-empty`,
    pid: worker.pid!,
    stop: () => worker.terminate(process.env.ONSALE_CHILD_NODE_FLAGS ? 60_000 : 30_000),
  };
}
