/**
 * Deploy safety: every history recorded from a real run (test/replay/*.json,
 * see record.ts) replays against the current workflow code. A change that
 * would make running workflows non-deterministic after a deploy fails here,
 * before it reaches a worker; such changes go behind patched() instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { installQuietRuntime } from '../../harness/runtime';
import { workflowBundle } from '../../harness/stack';
import { DROP_WORKFLOW_SPANS } from '../../workers/tracing';

installQuietRuntime();
jest.setTimeout(120_000);

const DIR = __dirname;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('histories are committed for every recorded case', () => {
  expect(files.length).toBeGreaterThanOrEqual(6);
  // Both workflow types are guarded: checkouts and the admission controller.
  expect(files.some((f) => f.startsWith('checkout-'))).toBe(true);
  expect(files.some((f) => f.startsWith('admission-'))).toBe(true);
});

test('every recorded history replays against the current workflow code', async () => {
  const histories = files.map((file) => ({
    workflowId: path.basename(file, '.json'),
    history: JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as unknown,
  }));
  const failures: string[] = [];
  let replayed = 0;
  // Traced histories (checkout-*-traced-*) call the span sink, which a worker always has.
  const options = { workflowBundle: await workflowBundle(), sinks: DROP_WORKFLOW_SPANS };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(files.length);
});
