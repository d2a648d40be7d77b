/**
 * A benchmark's worker process: the real worker (production bundle, real
 * activities) on TEMPORAL_TASK_QUEUE and the empty-workflow worker on
 * `<queue>-empty`, both on TEMPORAL_ADDRESS (bench/lib/services.ts), so the
 * load generator runs in another process and does not starve them. Started by
 * harness/processes.ts's AppProcess; stops on SIGTERM once in-flight tasks end.
 */
import { testConfig } from '../harness/stack';
import { startWorkers } from './lib/services';

async function main(): Promise<void> {
  const config = testConfig();
  const workers = await startWorkers(config);
  process.stdout.write(
    `${JSON.stringify({ msg: 'worker started', address: config.TEMPORAL_ADDRESS, taskQueue: workers.taskQueue, emptyTaskQueue: workers.emptyTaskQueue })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await workers.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench worker failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
