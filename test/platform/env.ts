/** Connection settings for platform tests, as exported by .state/stack.env. */
import type { Logger } from '@temporalio/common';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests through ./onsale test, or source .state/stack.env after ./onsale stack up`);
  }
  return value;
}

const noop = (): void => undefined;

/** Silences the workflow bundler's progress output in test logs. */
export const quietLogger: Logger = {
  log: noop,
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: (message, meta) => console.error(message, meta),
};

/**
 * Routes the SDK's own logs (worker state changes, native core warnings) to a
 * WARN-level logger so test output shows failures, not lifecycle chatter.
 * Must run before the first Worker or NativeConnection in the test file.
 */
export function installQuietRuntime(): void {
  // Imported lazily so test files that never start a worker do not load the native bridge.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Runtime, DefaultLogger } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Already installed by an earlier call in this test file's module registry.
  }
}
