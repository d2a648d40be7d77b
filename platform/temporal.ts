import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import type { Config } from './config';
import { tracingEnabled } from './tracing';

/**
 * TLS from Temporal's own variable names: a client certificate pair for mTLS,
 * a CA for a private server certificate, and the name to verify it against.
 * An API key (Temporal Cloud) implies TLS. The old TEMPORAL_TLS_CERT_PATH and
 * TEMPORAL_TLS_KEY_PATH are still read as aliases.
 */
async function tlsOptions(config: Config) {
  const certPath = config.TEMPORAL_TLS_CLIENT_CERT_PATH ?? config.TEMPORAL_TLS_CERT_PATH;
  const keyPath = config.TEMPORAL_TLS_CLIENT_KEY_PATH ?? config.TEMPORAL_TLS_KEY_PATH;
  const caPath = config.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  const serverName = config.TEMPORAL_TLS_SERVER_NAME;
  const wanted = config.TEMPORAL_TLS || config.TEMPORAL_API_KEY || certPath || caPath || serverName;
  if (!wanted) return undefined;
  if (!certPath && !caPath && !serverName) return true as const;
  return {
    ...(certPath && keyPath && { clientCertPair: { crt: await readFile(certPath), key: await readFile(keyPath) } }),
    ...(caPath && { serverRootCACertificate: await readFile(caPath) }),
    ...(serverName && { serverNameOverride: serverName }),
  };
}

/** Address, TLS and API key, shared by the client (API) and the worker's native connection. */
export async function temporalConnectionOptions(config: Config) {
  return {
    address: config.TEMPORAL_ADDRESS,
    tls: await tlsOptions(config),
    apiKey: config.TEMPORAL_API_KEY,
  };
}

/**
 * The API's client. This module must not load @temporalio/worker: the API never runs workflows.
 * With tracing on, every start, update, signal and query is a span whose context travels to the
 * workflow in the call's headers (the process registers its tracer provider: platform/tracing.ts).
 */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect(await temporalConnectionOptions(config));
  const interceptors = tracingEnabled(config)
    ? { workflow: [new (await import('@temporalio/interceptors-opentelemetry/lib/client')).OpenTelemetryWorkflowClientInterceptor()] }
    : undefined;
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, interceptors });
}
