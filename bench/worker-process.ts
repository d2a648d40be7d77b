/**
 * The benchmark's Temporal workers in a process of their own: the real worker
 * (production bundle, real activities) and the empty-workflow baseline worker,
 * on one connection. Started by bench/lib/services.ts with the benchmark's
 * settings in the environment, so the load generator never shares the workers'
 * event loop: a worker starved by the process that floods the API would make
 * every workflow task wait, and the benchmark would measure its own load.
 * Prints "worker started" once both poll; SIGTERM shuts both down.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { startWorker, testConfig } from '../harness/stack';
import { installQuietRuntime } from '../harness/runtime';
import { emptyBundle, EMPTY_WORKER_TUNING } from './lib/services';

async function main(): Promise<void> {
  const config = testConfig();
  installQuietRuntime();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const real = await startWorker(config, { connection });
  const empty = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: `${config.TEMPORAL_TASK_QUEUE}-empty`,
    workflowBundle: await emptyBundle(),
    ...EMPTY_WORKER_TUNING,
  });
  const emptyRun = empty.run();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (empty.getState() === 'RUNNING') empty.shutdown();
    await Promise.allSettled([emptyRun, real.stop()]);
    await connection.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  console.log(JSON.stringify({ msg: 'worker started', taskQueue: config.TEMPORAL_TASK_QUEUE }));
  await emptyRun;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
