/**
 * The workflow side of OpenTelemetry tracing: not a workflow, the interceptor
 * module every workflow bundle carries (workers/workflow-code.ts), so one
 * bundle serves a worker with tracing on or off.
 *
 * A workflow is traced when the call that started it carried a trace context
 * (the API's client adds one only when tracing is on), and only then does it
 * load and build the OpenTelemetry interceptors: an untraced workflow pays one
 * header lookup at start and a branch per call. The decision reads only the start
 * event's headers, so replay takes the same branch whatever the worker's own
 * configuration; spans leave the sandbox through the worker's `exporter` sink.
 */
import type * as OpenTelemetryWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The header the OpenTelemetry interceptors carry a trace context in (their TRACE_HEADER; a test holds them equal). */
export const TRACE_HEADER = '_tracer-data';

/**
 * Each workflow has its own module cache, so whatever this module imports is
 * evaluated again for every workflow: imported up front, the OpenTelemetry
 * modules cost an empty workflow about 40% more worker CPU with tracing off
 * (bench/tracing-overhead.ts). Only a traced workflow requires them.
 */
function loadTracing(): Tracing {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof OpenTelemetryWorkflow;
  return {
    inbound: new otel.OpenTelemetryInboundInterceptor(),
    outbound: new otel.OpenTelemetryOutboundInterceptor(),
    internals: new otel.OpenTelemetryInternalsInterceptor(),
  };
}

interface Tracing {
  inbound: OpenTelemetryWorkflow.OpenTelemetryInboundInterceptor;
  outbound: OpenTelemetryWorkflow.OpenTelemetryOutboundInterceptor;
  internals: OpenTelemetryWorkflow.OpenTelemetryInternalsInterceptor;
}

export const interceptors = (): WorkflowInterceptors => {
  let on: Tracing | undefined;

  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input, next) {
      if (input.headers[TRACE_HEADER] !== undefined) on = loadTracing();
      return on ? on.inbound.execute(input, next) : next(input);
    },
    handleSignal: (input, next) => (on ? on.inbound.handleSignal(input, next) : next(input)),
    handleUpdate: (input, next) => (on ? on.inbound.handleUpdate(input, next) : next(input)),
    validateUpdate: (input, next) => (on ? on.inbound.validateUpdate(input, next) : next(input)),
    handleQuery: (input, next) => (on ? on.inbound.handleQuery(input, next) : next(input)),
  };

  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => (on ? on.outbound.scheduleActivity(input, next) : next(input)),
    scheduleLocalActivity: (input, next) => (on ? on.outbound.scheduleLocalActivity(input, next) : next(input)),
    startChildWorkflowExecution: (input, next) => (on ? on.outbound.startChildWorkflowExecution(input, next) : next(input)),
    continueAsNew: (input, next) => (on ? on.outbound.continueAsNew(input, next) : next(input)),
    signalWorkflow: (input, next) => (on ? on.outbound.signalWorkflow(input, next) : next(input)),
    getLogAttributes: (input, next) => (on ? on.outbound.getLogAttributes(input, next) : next(input)),
  };

  const internals: WorkflowInternalsInterceptor = {
    dispose: (input, next) => (on ? on.internals.dispose(input, next) : next(input)),
  };

  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
};
