import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import type { Config } from './config';

async function tlsOptions(config: Config) {
  if (!config.TEMPORAL_TLS && !config.TEMPORAL_API_KEY) return undefined;
  if (config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH) {
    return {
      clientCertPair: {
        crt: await readFile(config.TEMPORAL_TLS_CERT_PATH),
        key: await readFile(config.TEMPORAL_TLS_KEY_PATH),
      },
    };
  }
  return true as const;
}

/** Address, TLS and API key, shared by the client (API) and the worker's native connection. */
export async function temporalConnectionOptions(config: Config) {
  return {
    address: config.TEMPORAL_ADDRESS,
    tls: await tlsOptions(config),
    apiKey: config.TEMPORAL_API_KEY,
  };
}

/** The API's client. This module must not load @temporalio/worker: the API never runs workflows. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect(await temporalConnectionOptions(config));
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}
