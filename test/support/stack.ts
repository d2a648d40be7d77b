/**
 * The harness's running system (harness/stack.ts) tied to a jest test file's
 * lifetime.
 */
import { type RunningApi, type RunningWorker, startApi, startWorker } from '../../harness/stack';
import type { Config } from '../../platform/config';

/** Runs the API and a worker for the whole test file, stopping both after it. */
export function useApiAndWorker(config: Config): { readonly api: RunningApi; readonly worker: RunningWorker } {
  const running = {} as { api: RunningApi; worker: RunningWorker };
  beforeAll(async () => {
    [running.api, running.worker] = await Promise.all([startApi(config), startWorker(config)]);
  });
  afterAll(async () => {
    await running.worker?.stop();
    await running.api?.stop();
  });
  return running;
}
