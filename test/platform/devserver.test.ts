/**
 * The Temporal dev server started by scripts/stack.sh (TEMPORAL_ADDRESS): a
 * real worker polls it and runs a workflow and an activity to completion, and
 * the search attributes the application relies on are registered.
 */
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import * as activities from '../fixtures/platform/activities';
import { addUpdate, counter, eventIdKey, greeter, stopSignal, tagged } from '../fixtures/platform/workflows';
import { installQuietRuntime, requireEnv } from '../../harness/runtime';

installQuietRuntime();

describe('Temporal dev server', () => {
  const address = requireEnv('TEMPORAL_ADDRESS');
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;
  let worker: Worker;
  let run: Promise<void>;
  const taskQueue = `platform-dev-${randomUUID()}`;

  beforeAll(async () => {
    connection = await Connection.connect({ address });
    client = new Client({ connection, namespace });
    nativeConnection = await NativeConnection.connect({ address });
    worker = await Worker.create({
      connection: nativeConnection,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('../fixtures/platform/workflows'),
      activities,
    });
    run = worker.run();
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await run;
    await nativeConnection?.close();
    await connection?.close();
  });

  test('a worker runs a workflow and its activity to completion', async () => {
    const result = await client.workflow.execute(greeter, {
      args: ['platform'],
      taskQueue,
      workflowId: `greeter-${randomUUID()}`,
    });
    expect(result).toBe(`hello, platform (pid ${process.pid})`);
  });

  test('the custom search attributes are registered and usable', async () => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['EventId', 'BuyerId', 'CheckoutState', 'QueueState']));
    const eventId = `evt-${randomUUID()}`;
    const handle = await client.workflow.start(tagged, {
      args: [eventId],
      taskQueue,
      workflowId: `tagged-${randomUUID()}`,
    });
    await handle.result();
    expect((await handle.describe()).typedSearchAttributes.get(eventIdKey)).toBe(eventId);
  });

  test('update-with-start is enabled', async () => {
    const workflowId = `counter-${randomUUID()}`;
    const operation = () => new WithStartWorkflowOperation(counter, { workflowId, taskQueue, workflowIdConflictPolicy: 'USE_EXISTING' });
    expect(await client.workflow.executeUpdateWithStart(addUpdate, { args: [2], startWorkflowOperation: operation() })).toBe(2);
    const second = operation();
    expect(await client.workflow.executeUpdateWithStart(addUpdate, { args: [3], startWorkflowOperation: second })).toBe(5);
    const handle = await second.workflowHandle();
    await handle.signal(stopSignal);
    expect(await handle.result()).toBe(5);
  });
});
