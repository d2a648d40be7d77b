/**
 * The worker's half of tracing: activity spans that continue the workflow's
 * trace, and the sink through which workflows hand their spans out of the
 * sandbox (workflows/tracing.ts) to the process's exporter.
 */
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Tracing } from '../platform/tracing';

export interface WorkerTracing {
  activityInterceptors: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<OpenTelemetrySinks>;
}

/**
 * The sink of a worker that does not export: a workflow started by an API that
 * traces (and so traced itself) must not make it log an unregistered sink on
 * every task. Replayers use it too.
 */
export const DROP_WORKFLOW_SPANS: InjectedSinks<OpenTelemetrySinks> = { exporter: { export: { fn: () => undefined } } };

export async function workerTracing(tracing: Tracing | null): Promise<WorkerTracing> {
  if (!tracing) return { activityInterceptors: [], sinks: DROP_WORKFLOW_SPANS };
  const otel = await import('@temporalio/interceptors-opentelemetry/lib/worker');
  return {
    activityInterceptors: [
      (ctx) => ({
        inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: otel.makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
