/**
 * The system under test, on this machine: the real API process (api/server.ts)
 * in a child process so the load generator does not share its event loop, and
 * real Temporal workers (production bundle and the empty baseline) in this one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '../../platform/config';
import { migrateOnce, type RunningWorker, startWorker, testConfig } from '../../test/support/stack';
import { installQuietRuntime, quietLogger } from '../../test/platform/env';

const ROOT = path.resolve(__dirname, '../..');

export function benchConfig(): Config {
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'TEMPORAL_ADDRESS', 'ADMIN_TOKEN']) {
    if (!process.env[name]) {
      throw new Error(`${name} is not set: run ./onsale stack up, then: set -a; source .state/stack.env; set +a`);
    }
  }
  return testConfig({ TEMPORAL_TASK_QUEUE: `bench-${randomUUID().slice(0, 8)}`, LOG_LEVEL: 'warn' });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts api/server.ts as its own process group on a free loopback port and waits until it answers. */
export async function startApiProcess(config: Config, extraEnv: Record<string, string> = {}): Promise<ApiProcess> {
  await migrateOnce(config);
  const port = await freePort();
  const env = {
    ...process.env,
    ...Object.fromEntries(
      Object.entries(config)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    ),
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    LOG_LEVEL: 'warn',
    // The load generator plays the CDN in front of the API: it names each simulated client's address in
    // X-Forwarded-For, so per-address limits see many clients instead of one loopback address.
    TRUST_PROXY_HOPS: '1',
    ...extraEnv,
  };
  const log: string[] = [];
  const child: ChildProcess = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['api/server.ts'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => {
    log.push(b.toString());
    if (log.length > 50) log.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}:\n${log.join('')}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`the API did not answer within 60 s:\n${log.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 12_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Workers {
  /** Task queue of the production checkout workflows. */
  taskQueue: string;
  /** Task queue of the empty baseline workflow. */
  emptyTaskQueue: string;
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

/** The real worker (production bundle, real activities) and the empty-workflow worker, sharing one connection. */
export async function startWorkers(config: Config): Promise<Workers> {
  installQuietRuntime();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const real: RunningWorker = await startWorker(config, { connection });
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
