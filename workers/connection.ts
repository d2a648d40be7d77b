import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../platform/config';
import { temporalConnectionOptions } from '../platform/temporal';

/** The worker's connection to Temporal: the native (Rust core) one, with the client's TLS settings. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(await temporalConnectionOptions(config));
}
