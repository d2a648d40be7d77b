import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { requireEnv } from '../platform/env';

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
