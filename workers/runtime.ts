/**
 * The Temporal runtime of the worker process: its logs (native core and SDK)
 * forwarded to pino, and its metrics exported for Prometheus on a loopback
 * port. Must be installed before the first connection.
 */
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's Logger interface over pino: one JSON log stream for the whole worker. */
export function sdkLoggerFrom(logger: Logger): TemporalLogger {
  const sdk = logger.child({ component: 'temporal' });
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => sdk[LEVELS[level]](meta ?? {}, message);
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}

/** Installs the runtime; answers the URL of its Prometheus exporter when the worker serves metrics. */
export function installWorkerRuntime(config: Config, logger: Logger): string | undefined {
  const port = config.WORKER_METRICS_PORT ? (config.TEMPORAL_METRICS_PORT ?? config.WORKER_METRICS_PORT + 1) : 0;
  const bindAddress = `127.0.0.1:${port}`;
  Runtime.install({
    logger: sdkLoggerFrom(logger),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }), forward: {} },
      ...(port && {
        metrics: { prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } },
      }),
    },
  });
  return port ? `http://${bindAddress}/metrics` : undefined;
}
