import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Pool } from 'pg';
import { migrate } from '../../db/migrate';
import type { Config } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { createActivityDeps } from '../../workers/deps';
import { requireEnv } from '../../harness/runtime';

/** The search attributes the workflows set; the dev server registers them at start-up. */
export const SEARCH_ATTRIBUTES = ['EventId', 'BuyerId', 'CheckoutState', 'QueueState'];

/**
 * Temporal's Java time-skipping server with onsale's search attributes
 * registered (a workflow that sets an unregistered attribute fails its task).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireEnv('TEMPORAL_TEST_SERVER_PATH') } },
  });
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  for (const name of SEARCH_ATTRIBUTES) {
    try {
      await env.connection.operatorService.addSearchAttributes({
        namespace: env.namespace ?? 'default',
        searchAttributes: { [name]: keyword },
      });
    } catch (err) {
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
  }
  return env;
}

export interface TimeSkippingWorld {
  env: TestWorkflowEnvironment;
  deps: ReturnType<typeof createActivityDeps>;
  pool: Pool;
}

/**
 * The real activities' connections for the whole test file, and a time-skipping
 * server of its own for every test. The server leaks a time-skipping lock when a
 * run ends with an activity or workflow task in flight (temporalio/sdk-java#1138),
 * and a test's clean-up terminates runs mid-tick: on a shared server every later
 * test would then sleep in real time. A fresh server starts in about 0.3 s.
 */
export function useTimeSkipping(config: Config): TimeSkippingWorld {
  const world = {} as TimeSkippingWorld;
  beforeAll(async () => {
    world.deps = createActivityDeps(config, createLogger('test', 'warn'));
    world.pool = world.deps.pool;
    await migrate(world.pool);
  });
  beforeEach(async () => {
    world.env = await createTimeSkippingEnv();
  });
  afterEach(async () => {
    await world.env?.teardown();
  });
  afterAll(async () => {
    await world.deps?.close();
  });
  return world;
}
