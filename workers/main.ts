/**
 * The worker process: runs the checkout and admission workflows and their
 * activities on one task queue, and relays the notification outbox by SMTP.
 */
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createMailer, startOutboxRelay } from '../notifications/relay';
import { loadConfigOrExit } from '../platform/config';
import { createLogger } from '../platform/logger';
import { startTracing } from '../platform/tracing';
import { connectWorker } from './connection';
import { createActivityDeps } from './deps';
import { createWorkerMetrics, serveMetrics } from './metrics';
import { installWorkerRuntime } from './runtime';
import { workerTracing } from './tracing';
import { WORKER_TUNING } from './tuning';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from './workflow-code';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger('worker', config.LOG_LEVEL);
  const runtimeMetricsUrl = installWorkerRuntime(config, logger);
  const tracing = await startTracing(config, 'onsale-worker');
  const traced = await workerTracing(tracing);
  const deps = createActivityDeps(config, logger);
  const metrics = createWorkerMetrics(deps.pool);
  const endpoint = config.WORKER_METRICS_PORT
    ? await serveMetrics({
        registry: metrics.registry,
        host: config.WORKER_METRICS_HOST,
        port: config.WORKER_METRICS_PORT,
        runtimeMetricsUrl,
        logger,
      })
    : null;
  const relay = startOutboxRelay({ pool: deps.pool, mailer: createMailer(config.SMTP_URL), from: config.MAIL_FROM, logger });
  const connection = await connectWorker(config);
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    // Images bundle the workflows at build time; a development worker bundles them at start (same modules).
    ...(config.WORKFLOW_BUNDLE_PATH ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(deps),
    interceptors: {
      activity: [metrics.interceptor, ...traced.activityInterceptors],
      ...(!config.WORKFLOW_BUNDLE_PATH && { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
    },
    sinks: traced.sinks,
    ...WORKER_TUNING,
  });
  logger.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      address: config.TEMPORAL_ADDRESS,
      metrics: endpoint?.url,
      tracing: tracing?.endpoint ?? 'off',
    },
    'worker started',
  );
  try {
    // Worker.run resolves after SIGINT/SIGTERM once in-flight tasks have finished.
    await worker.run();
  } finally {
    await relay.stop();
    await endpoint?.close();
    await connection.close();
    await deps.close();
    await tracing?.shutdown();
    logger.info('worker stopped');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
