/**
 * A benchmark's worker process: the real worker (production bundle, real
 * activities) on TEMPORAL_TASK_QUEUE and the empty-workflow worker on
 * `<queue>-empty`, both on TEMPORAL_ADDRESS (bench/lib/services.ts), so the
 * load generator runs in another process and does not starve them;
 * BENCH_WORKER_TUNING overrides the production worker's tuning. Started by
 * harness/processes.ts's AppProcess; stops on SIGTERM once in-flight tasks end.
 */
import { testConfig } from '../harness/stack';
import { WORKER_TUNING } from '../workers/tuning';
import { startWorkersHere } from './lib/services';

/** BENCH_WORKER_TUNING: JSON of WORKER_TUNING fields that override the production worker's (positive integers). */
function tuning(): Partial<typeof WORKER_TUNING> {
  const raw = process.env.BENCH_WORKER_TUNING;
  if (!raw) return {};
  const parsed: unknown = JSON.parse(raw);
  const out: Partial<Record<keyof typeof WORKER_TUNING, number>> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (!(k in WORKER_TUNING))
      throw new Error(`BENCH_WORKER_TUNING: unknown field ${k} (fields: ${Object.keys(WORKER_TUNING).join(', ')})`);
    if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`BENCH_WORKER_TUNING: ${k} must be a positive integer`);
    out[k as keyof typeof WORKER_TUNING] = v as number;
  }
  return out;
}

async function main(): Promise<void> {
  const config = testConfig();
  const workers = await startWorkersHere(config, tuning());
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
