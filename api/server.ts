/** The API process: Hono on Node's HTTP server, with graceful shutdown. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfigOrExit } from '../platform/config';
import { createLogger } from '../platform/logger';
import { startTracing, type Tracing } from '../platform/tracing';
import { type ApiDeps, buildApiDeps, keepConnectionsAlive } from './deps';
import { createApiListener } from './listener';

export async function createApiDeps(): Promise<ApiDeps> {
  const config = loadConfigOrExit();
  return buildApiDeps(config, createLogger('api', config.LOG_LEVEL));
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger('api', config.LOG_LEVEL);
  // Before the Temporal client exists, so its spans have a provider to go to.
  const tracing: Tracing | null = await startTracing(config, 'onsale-api');
  const deps = await buildApiDeps(config, logger);
  const { listener } = await createApiListener(deps);
  const server = createServer(listener);
  server.listen(config.API_PORT, config.API_HOST, () => {
    const { port } = server.address() as AddressInfo;
    logger.info({ url: `http://${config.API_HOST}:${port}`, tracing: tracing?.endpoint ?? 'off' }, 'api listening');
  });
  keepConnectionsAlive(server);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'api shutting down');
    // Stop accepting connections, let in-flight requests finish, then close the clients.
    server.close(async () => {
      await Promise.allSettled([deps.pool.end(), deps.redis.quit(), deps.temporal.connection.close(), tracing?.shutdown()]);
      logger.info('api stopped');
      process.exit(0);
    });
    // Seat streams never end by themselves: give requests a moment, then cut the streams
    // (clients reconnect to another replica and resume with Last-Event-ID).
    const http = server as unknown as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
    http.closeIdleConnections?.();
    setTimeout(() => http.closeAllConnections?.(), 3_000).unref();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`api failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
