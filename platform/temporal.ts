import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
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

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({
    address: config.TEMPORAL_ADDRESS,
    tls: await tlsOptions(config),
    apiKey: config.TEMPORAL_API_KEY,
  });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: config.TEMPORAL_ADDRESS,
    tls: await tlsOptions(config),
    apiKey: config.TEMPORAL_API_KEY,
  });
}
