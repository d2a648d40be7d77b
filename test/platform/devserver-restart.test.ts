/**
 * The local dev server keeps its state in a file (.state/temporal/temporal.db):
 * a workflow waiting on a signal survives a restart of the server and
 * completes afterwards. Runs only when the stack's own dev server is in use.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as activities from '../fixtures/platform/activities';
import { finishSignal, waitsForSignal } from '../fixtures/platform/workflows';
import { installQuietRuntime, quietLogger } from '../../harness/runtime';

installQuietRuntime();

const LOCAL_TEMPORAL = '127.0.0.1:7233';
const local = process.env.TEMPORAL_ADDRESS === LOCAL_TEMPORAL;

function stack(...args: string[]): void {
  execFileSync(join(__dirname, '..', '..', 'scripts', 'stack.sh'), args, { stdio: 'inherit', timeout: 120_000 });
}

(local ? describe : describe.skip)('Temporal dev server restart', () => {
  test('a workflow waiting on a signal survives a server restart', async () => {
    const taskQueue = `platform-restart-${randomUUID()}`;
    const workflowId = `waits-${randomUUID()}`;
    const workflowBundle = await (
      await import('@temporalio/worker')
    ).bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/platform/workflows'),
      logger: quietLogger,
    });

    async function runWorkerUntil<R>(fn: () => Promise<R>): Promise<R> {
      const connection = await NativeConnection.connect({ address: LOCAL_TEMPORAL });
      try {
        const worker = await Worker.create({
          connection,
          taskQueue,
          workflowBundle,
          activities,
          // The first worker is gone after the restart: let its sticky queue lapse quickly.
          stickyQueueScheduleToStartTimeout: '1s',
        });
        return await worker.runUntil(fn());
      } finally {
        await connection.close();
      }
    }

    // Before: the workflow starts and its first task runs, so it is parked on the signal.
    let connection = await Connection.connect({ address: LOCAL_TEMPORAL });
    try {
      const client = new Client({ connection });
      const handle = await client.workflow.start(waitsForSignal, { taskQueue, workflowId });
      await runWorkerUntil(async () => {
        for (let i = 0; i < 100; i++) {
          const { historyLength } = await handle.describe();
          if (historyLength >= 4) return; // started, task scheduled, started, completed
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('the workflow task did not complete before the restart');
      });
    } finally {
      await connection.close();
    }

    stack('restart', 'temporal');

    // After: a fresh connection and worker find the same run and finish it.
    connection = await Connection.connect({ address: LOCAL_TEMPORAL });
    try {
      const client = new Client({ connection });
      const handle = client.workflow.getHandle(workflowId);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.signal(finishSignal, 'after restart');
      const result = await runWorkerUntil(() => handle.result());
      expect(result).toBe('after restart');
    } finally {
      await connection.close();
    }
  });
});
