/** The environment a harness run needs (as exported by .state/stack.env), and a quiet Temporal runtime for it. */
import type { Logger } from '@temporalio/common';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run through ./onsale, or source .state/stack.env after ./onsale stack up`);
  }
  return value;
}

const noop = (): void => undefined;

/** Silences the workflow bundler's progress output. */
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
 * WARN-level logger so the output shows failures, not lifecycle chatter.
 * Must run before the first Worker or NativeConnection in the process.
 */
export function installQuietRuntime(): void {
  // Imported lazily so callers that never start a worker do not load the native bridge.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Runtime, DefaultLogger } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Already installed by an earlier call in this module registry.
  }
}
