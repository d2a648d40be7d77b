/**
 * Temporal's Java time-skipping test server, as installed by scripts/install.sh
 * and pointed to by TEMPORAL_TEST_SERVER_PATH. Workflow tests of hold windows
 * (minutes of durable timers) rely on it to run in milliseconds.
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import * as activities from '../fixtures/platform/activities';
import { addUpdate, counter, eventIdKey, sleeper, stopSignal, tagged } from '../fixtures/platform/workflows';
import { installQuietRuntime, quietLogger, requireEnv } from '../../harness/runtime';

installQuietRuntime();

const FIVE_MINUTES_MS = 5 * 60 * 1000;

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    const path = requireEnv('TEMPORAL_TEST_SERVER_PATH');
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path } },
    });
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/platform/workflows'),
      logger: quietLogger,
    });
  });

  afterAll(async () => {
    await env?.teardown();
  });

  async function withWorker<R>(fn: (taskQueue: string) => Promise<R>): Promise<R> {
    const taskQueue = `platform-ts-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities,
    });
    return await worker.runUntil(fn(taskQueue));
  }

  test('a five-minute durable timer completes in seconds of wall time', async () => {
    expect(env.supportsTimeSkipping).toBe(true);
    await withWorker(async (taskQueue) => {
      const wallStart = performance.now();
      const workflowElapsed = await env.client.workflow.execute(sleeper, {
        args: [FIVE_MINUTES_MS],
        taskQueue,
        workflowId: `sleeper-${randomUUID()}`,
      });
      const wallElapsed = performance.now() - wallStart;
      expect(workflowElapsed).toBeGreaterThanOrEqual(FIVE_MINUTES_MS);
      expect(wallElapsed).toBeLessThan(5000);
    });
  });

  test('update-with-start starts the workflow once and then updates it', async () => {
    await withWorker(async (taskQueue) => {
      const workflowId = `counter-${randomUUID()}`;
      const operation = () =>
        new WithStartWorkflowOperation(counter, {
          workflowId,
          taskQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
      const first = operation();
      expect(await env.client.workflow.executeUpdateWithStart(addUpdate, { args: [2], startWorkflowOperation: first })).toBe(2);
      // The second call finds the running workflow (USE_EXISTING): a new run would answer 3, not 5.
      const second = operation();
      expect(await env.client.workflow.executeUpdateWithStart(addUpdate, { args: [3], startWorkflowOperation: second })).toBe(5);
      const handle = await second.workflowHandle();
      await handle.signal(stopSignal);
      expect(await handle.result()).toBe(5);
    });
  });

  // The Java test server knows no custom search attributes until they are added
  // (starting a workflow with an unknown one fails). Adding an existing one
  // fails with ALREADY_EXISTS; ListSearchAttributes and visibility queries
  // (workflow.list) are not implemented there.
  test('custom search attributes can be registered, set by a workflow and read back', async () => {
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: { EventId: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
    await withWorker(async (taskQueue) => {
      const eventId = `evt-${randomUUID()}`;
      const handle = await env.client.workflow.start(tagged, {
        args: [eventId],
        taskQueue,
        workflowId: `tagged-${randomUUID()}`,
      });
      await handle.result();
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(eventIdKey)).toBe(eventId);
    });
  });
});
