/**
 * OpenTelemetry tracing for the API and the worker, configured by the
 * specification's own variables (OTEL_EXPORTER_OTLP_ENDPOINT and the rest,
 * validated in platform/config.ts). Off unless an endpoint is set: then the
 * SDK is never loaded, no interceptor is installed and no span is made.
 * Spans go over OTLP/HTTP as JSON, batched.
 */
import type { Resource } from '@opentelemetry/resources';
import type { Sampler, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Config } from './config';

type TracingConfig = Pick<
  Config,
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_SDK_DISABLED'
  | 'OTEL_SERVICE_NAME'
  | 'OTEL_TRACES_SAMPLER'
  | 'OTEL_TRACES_SAMPLER_ARG'
>;

/** Where spans go, or null when tracing is off. */
export function tracesEndpoint(config: TracingConfig): string | null {
  if (config.OTEL_SDK_DISABLED) return null;
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT) return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return null;
}

export function tracingEnabled(config: TracingConfig): boolean {
  return tracesEndpoint(config) !== null;
}

export interface Tracing {
  endpoint: string;
  serviceName: string;
  /** The processor the provider exports through; the worker hands it workflow spans too. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is buffered and stops; call on the way out. */
  shutdown(): Promise<void>;
}

/**
 * Registers the process's tracer provider (with the W3C trace-context
 * propagator and an AsyncLocalStorage context manager) when tracing is on;
 * answers null, loading nothing, when it is off.
 */
export async function startTracing(config: TracingConfig, defaultServiceName: string): Promise<Tracing | null> {
  const endpoint = tracesEndpoint(config);
  if (!endpoint) return null;
  const [{ Resource }, base, { NodeTracerProvider }, { OTLPTraceExporter }, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const serviceName = config.OTEL_SERVICE_NAME ?? defaultServiceName;
  const resource = Resource.default().merge(new Resource({ [ATTR_SERVICE_NAME]: serviceName }));
  const spanProcessor = new base.BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }));
  const ratio = config.OTEL_TRACES_SAMPLER_ARG ?? 1;
  const samplers: Record<Config['OTEL_TRACES_SAMPLER'], () => Sampler> = {
    always_on: () => new base.AlwaysOnSampler(),
    always_off: () => new base.AlwaysOffSampler(),
    traceidratio: () => new base.TraceIdRatioBasedSampler(ratio),
    parentbased_always_on: () => new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() }),
    parentbased_always_off: () => new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(ratio) }),
  };
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplers[config.OTEL_TRACES_SAMPLER](),
    spanProcessors: [spanProcessor],
  });
  provider.register();
  return { endpoint, serviceName, spanProcessor, resource, shutdown: () => provider.shutdown() };
}
