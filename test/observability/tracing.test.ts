/**
 * OpenTelemetry tracing as deployed: the API (api/server.ts) and the worker
 * (workers/main.ts, on the prebuilt workflow bundle) in their own processes,
 * exporting over OTLP/HTTP to a receiver this test runs. One buyer's hold and
 * purchase make one trace from the HTTP request through the client's
 * update-with-start to the checkout workflow and its activities. With no
 * endpoint configured nothing is sent, not even to the exporter's default
 * address.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { checkoutWorkflowId } from '../../domain/ids';
import { AppProcess, freePort, waitFor } from '../../harness/processes';
import { installQuietRuntime } from '../../harness/runtime';
import { migrateOnce, testConfig, workflowBundle } from '../../harness/stack';
import { loadConfig } from '../../platform/config';
import { tracesEndpoint } from '../../platform/tracing';
import { DROP_WORKFLOW_SPANS } from '../../workers/tracing';
import { TRACE_HEADER } from '../../workflows/tracing';
import { TRACE_HEADER as OPENTELEMETRY_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { call, createEvent, newBuyer } from '../support/http';

// The processes inherit this environment: tracing settings come only from each test.
for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_') || name === 'WORKFLOW_BUNDLE_PATH') delete process.env[name];
const config = testConfig();
installQuietRuntime();

type Workflows = 'prebuilt' | 'bundled at start';

interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] }[];
  }[];
}

/** An OTLP/HTTP traces receiver: POST /v1/traces with a JSON body, as the JSON exporter sends. */
async function startReceiver(port = 0, host = '127.0.0.1') {
  const spans: ReceivedSpan[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson;
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({ service, name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '' });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    spans,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The API and a worker on their own task queue, with these extra variables (and some for the API only).
 * The worker loads the prebuilt workflow bundle, as an image's does, or bundles the workflows at start.
 */
async function startSystem(extra: Record<string, string>, apiOnly: Record<string, string> = {}, workflows: Workflows = 'prebuilt') {
  const [apiPort, bundle] = await Promise.all([freePort(), workflowBundle(), migrateOnce(config)]);
  const env = {
    TEMPORAL_TASK_QUEUE: `test-tracing-${randomUUID()}`,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...(workflows === 'prebuilt' && { WORKFLOW_BUNDLE_PATH: bundle.codePath }),
    ...extra,
  };
  const worker = new AppProcess('tracing-worker', 'workers/main.ts', env);
  const api = new AppProcess('tracing-api', 'api/server.ts', { ...env, ...apiOnly });
  await Promise.all([worker.start(), api.start()]);
  return {
    url: `http://127.0.0.1:${apiPort}`,
    worker,
    api,
    /** Stops both gracefully; their tracer providers export what they still hold on the way out. */
    stop: () => Promise.all([api.terminate(), worker.terminate()]),
  };
}

/** A hold then its purchase, each request carrying the caller's trace context (the purchase's, when given). */
async function holdAndBuy(url: string, traceparent?: string, purchaseTraceparent?: string) {
  const eventId = await createEvent(url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(url, 'Traced Buyer');
  const hold = await call(url, 'POST', `/v1/events/${eventId}/hold`, {
    token: buyer.token,
    body: { seatIds: ['A-1-1'] },
    headers: traceparent ? { traceparent } : {},
  });
  expect(hold.status).toBe(201);
  const paid = await call(url, 'POST', `/v1/events/${eventId}/purchase`, {
    token: buyer.token,
    body: { holdId: hold.body.holdId, paymentMethod: 'pm_card_visa' },
    headers: purchaseTraceparent ? { traceparent: purchaseTraceparent } : {},
  });
  expect(paid.status).toBe(200);
  return checkoutWorkflowId(eventId, buyer.buyerId);
}

test("the workflow interceptors look for the trace context in the OpenTelemetry interceptors' header", () => {
  expect(TRACE_HEADER).toBe(OPENTELEMETRY_TRACE_HEADER);
});

test('the tracing variables are validated at start-up like the others', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  expect(() => loadConfig({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
    'invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT must be a URL with scheme http: or https:',
  );
  expect(() => loadConfig({ ...env, OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow('invalid configuration: OTEL_TRACES_SAMPLER');
  expect(() => loadConfig({ ...env, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(
    'invalid configuration: OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1',
  );
  expect(() => loadConfig({ ...env, OTEL_TRACES_SAMPLER_ARG: '0.5' })).toThrow(
    'invalid configuration: OTEL_TRACES_SAMPLER_ARG is only read by the traceidratio samplers',
  );
  expect(loadConfig({ ...env, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toMatchObject({
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: 0.25,
  });
  // Off by default; an empty value (as docker-compose passes an unset one) counts as unset, as the specification says.
  expect(tracesEndpoint(loadConfig(env))).toBeNull();
  const blank = loadConfig({
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_TRACES_SAMPLER: '',
    OTEL_TRACES_SAMPLER_ARG: '',
    OTEL_SDK_DISABLED: '',
  });
  expect(tracesEndpoint(blank)).toBeNull();
  expect(blank).toMatchObject({ OTEL_TRACES_SAMPLER: 'parentbased_always_on', OTEL_TRACES_SAMPLER_ARG: undefined });
  expect(tracesEndpoint(loadConfig({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }))).toBe(
    'http://collector:4318/v1/traces',
  );
  const both = {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo.example/otlp/traces',
  };
  expect(tracesEndpoint(loadConfig({ ...env, ...both }))).toBe('https://tempo.example/otlp/traces');
  expect(tracesEndpoint(loadConfig({ ...env, ...both, OTEL_SDK_DISABLED: 'true' }))).toBeNull();
});

test.each<Workflows>(['prebuilt', 'bundled at start'])(
  'one trace runs from the HTTP request through the workflow start to the workflow and its activities (workflows %s)',
  async (workflows) => {
    const receiver = await startReceiver();
    const system = await startSystem(
      // Export every half second instead of every five, so the test does not wait on the batch.
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '500' },
      { OTEL_SERVICE_NAME: 'onsale-edge' },
      workflows,
    );
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const purchaseSpanId = randomBytes(8).toString('hex');
    let workflowId: string | undefined;
    try {
      expect(system.api.logText).toContain(`"tracing":"${receiver.url}/v1/traces"`);
      expect(system.worker.logText).toContain(`"tracing":"${receiver.url}/v1/traces"`);
      workflowId = await holdAndBuy(system.url, `00-${traceId}-${callerSpanId}-01`, `00-${traceId}-${purchaseSpanId}-01`);
      const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
      const names = () => inTrace().map((s) => s.name);
      // The checkout workflow ends with the purchase; its run span is exported when it does.
      await waitFor(
        "the workflow's and an activity's spans",
        () => names().includes('RunWorkflow:checkout') && names().some((n) => n.startsWith('RunActivity:')),
        60_000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; the trace has ${JSON.stringify(names())}`);
      });
    } finally {
      await system.stop();
      await receiver.close();
    }
    const trace = receiver.spans.filter((s) => s.traceId === traceId);
    const named = (name: string) => trace.filter((s) => s.name === name);
    expect(receiver.requests.every((r) => r.startsWith('POST /v1/traces application/json'))).toBe(true);
    // HTTP → client → workflow → activity, every span in the trace the caller started. The hold's request starts
    // the checkout already held (the API reserved the seats itself); the purchase's runs the activities.
    const [request] = named('POST /v1/events/:eventId/hold');
    const [start] = named('StartWorkflow:checkout');
    const [workflow] = named('RunWorkflow:checkout');
    expect(request).toMatchObject({ service: 'onsale-edge', parentSpanId: callerSpanId });
    expect(start).toMatchObject({ service: 'onsale-edge', parentSpanId: request!.spanId });
    expect(workflow).toMatchObject({ service: 'onsale-worker', parentSpanId: start!.spanId });
    const [purchase] = named('POST /v1/events/:eventId/purchase');
    const [update] = named('HandleUpdate:purchase');
    expect(purchase).toMatchObject({ service: 'onsale-edge', parentSpanId: purchaseSpanId });
    const ids = new Map(trace.map((s) => [s.spanId, s]));
    // The worker's update span hangs off the API's update call, which hangs off the purchase's request.
    expect(ids.get(update!.parentSpanId)).toMatchObject({ service: 'onsale-edge', parentSpanId: purchase!.spanId });
    const activities = trace.filter((s) => s.name.startsWith('RunActivity:'));
    expect(activities.length).toBeGreaterThan(0);
    // Each activity's span hangs off the workflow's StartActivity span for it.
    for (const a of activities) expect(ids.get(a.parentSpanId)?.name).toBe(a.name.replace('RunActivity:', 'StartActivity:'));

    // A traced checkout replays on the same code: its spans change headers, never commands.
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    try {
      const history = await new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }).workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), sinks: DROP_WORKFLOW_SPANS }, history, workflowId);
    } finally {
      await connection.close();
    }
  },
  240_000,
);

test('with no endpoint set nothing is sent, not even to the default OTLP address', async () => {
  // The OTLP exporter's default destination: anything that started an exporter without an endpoint would land here.
  const receiver = await startReceiver(4318, '::').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new Error('port 4318 (the default OTLP/HTTP port) is taken: free it to run this test');
    throw err;
  });
  const system = await startSystem({
    OTEL_SERVICE_NAME: 'onsale-untraced',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  try {
    expect(system.api.logText).toContain('"tracing":"off"');
    expect(system.worker.logText).toContain('"tracing":"off"');
    await holdAndBuy(system.url, `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`);
  } finally {
    await system.stop();
    await receiver.close();
  }
  expect(receiver.requests).toEqual([]);
}, 240_000);
