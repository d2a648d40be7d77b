/**
 * Request rates of the API's hot read and waiting-room paths, each next to
 * the same server's bare endpoint (GET /healthz: Hono, middleware and Node's
 * HTTP stack with no I/O) and raw Redis on the same machine.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import type { Config } from '../../platform/config';
import { createBuyerTokens } from '../../services/buyer-tokens';
import { clientAddress, type HttpClient } from '../lib/http';
import { type LoadResult, runLoad } from '../lib/load';

export interface HttpOptions {
  concurrency: number;
  durationMs: number;
  /** Distinct buyers minted for the join benchmark (each join is a new buyer). */
  joiners: number;
}

type Progress = (text: string) => void;

/** Buyer tokens signed with the development issuer's secret, as POST /v1/dev/buyers would hand out. */
export async function mintBuyers(config: Config, n: number, prefix = 'bench'): Promise<{ buyerId: string; token: string }[]> {
  const tokens = createBuyerTokens({
    mode: 'development',
    secret: config.BUYER_TOKEN_SECRET,
    issuer: config.BUYER_TOKEN_ISSUER,
  });
  const tag = randomBytes(5).toString('hex');
  const out: { buyerId: string; token: string }[] = [];
  for (let i = 0; i < n; i++) {
    const buyerId = `byr_${prefix}${tag}${i}`;
    out.push({
      buyerId,
      token: await tokens.issue!({ buyerId, name: 'Bench Buyer', email: `${buyerId.toLowerCase()}@buyers.onsale.test` }),
    });
  }
  return out;
}

export async function benchGet(
  http: HttpClient,
  path: string,
  o: HttpOptions,
  progress: Progress,
  label = path,
  opts: { headers?: Record<string, string>; expect?: number } = {},
): Promise<LoadResult> {
  const want = opts.expect ?? 200;
  return runLoad({
    concurrency: o.concurrency,
    durationMs: o.durationMs,
    op: async () => ((await http.request('GET', path, { headers: opts.headers })).status === want ? 'ok' : 'error'),
    onTick: (n) => progress(`${label}: ${n} requests`),
  });
}

/** Bytes of one answer's body as sent, in the coding the headers ask for. */
export async function wireBytes(
  http: HttpClient,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ bytes: number; coding: string; etag: string }> {
  const r = await http.request('GET', path, { headers, raw: true });
  return {
    bytes: r.bytes ?? Buffer.byteLength(r.body),
    coding: String(r.headers['content-encoding'] ?? 'identity'),
    etag: String(r.headers.etag ?? ''),
  };
}

/** Pipelined INCRs from one ioredis connection per loop: what Redis itself does per second here. */
export async function benchRawRedis(redisUrl: string, o: HttpOptions, progress: Progress): Promise<LoadResult> {
  const loops = 4;
  const batch = 100;
  const clients = Array.from({ length: loops }, () => new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 }));
  const key = `bench:raw:${randomBytes(4).toString('hex')}`;
  try {
    const r = await runLoad({
      concurrency: loops,
      durationMs: o.durationMs,
      op: async (loop) => {
        const p = clients[loop]!.pipeline();
        for (let i = 0; i < batch; i++) p.incr(key);
        await p.exec();
        return 'batch';
      },
      onTick: (n) => progress(`raw Redis: ${n * batch} INCRs`),
    });
    // Each operation was a batch: report INCRs.
    const perSecond = ((r.outcomes.batch ?? 0) * batch) / r.seconds;
    return { ...r, rates: { ok: Math.round(perSecond) }, outcomes: { ok: (r.outcomes.batch ?? 0) * batch } };
  } finally {
    await clients[0]!.del(key).catch(() => 0);
    clients.forEach((c) => c.disconnect());
  }
}

/** redis-benchmark (from redis-tools), when installed: the C client's view of the same Redis. */
export async function redisBenchmark(redisUrl: string, requests: number): Promise<{ pipelined16: number; unpipelined: number } | null> {
  const u = new URL(redisUrl);
  const run = async (pipeline: number) => {
    const key = `bench:rb:${randomBytes(4).toString('hex')}`;
    const { stdout } = await promisify(execFile)(
      'redis-benchmark',
      ['-h', u.hostname, '-p', u.port || '6379', '-c', '50', '-n', String(requests), '-P', String(pipeline), '--csv', 'INCR', key],
      { timeout: 60_000 },
    );
    const cli = new Redis(redisUrl);
    await cli.del(key).finally(() => cli.disconnect());
    // CSV: "test","rps",... then a row whose second column is requests per second.
    const row = stdout.trim().split('\n').pop() ?? '';
    return Math.round(Number(row.split(',')[1]?.replace(/"/g, '')));
  };
  try {
    return { pipelined16: await run(16), unpipelined: await run(1) };
  } catch {
    return null;
  }
}

/** Whether the running API serves a route (the error contract's NOT_FOUND "no route" otherwise). */
export async function hasRoute(http: HttpClient, method: string, path: string, token?: string): Promise<boolean> {
  const r = await http.status(method, path, { token, ...(method === 'POST' && { body: {} }) });
  return !r.notFoundRoute;
}

export interface WaitingRoomFigures {
  join: LoadResult;
  me: LoadResult;
}

/**
 * Joins with a new buyer from a new address per request, then polls /queue/me
 * round-robin over the buyers that joined (the API allows each buyer a few
 * polls a second; spreading them keeps this a throughput figure, not a rate-limit one).
 */
export async function benchWaitingRoom(
  http: HttpClient,
  eventId: string,
  buyers: { token: string }[],
  o: HttpOptions,
  progress: Progress,
): Promise<WaitingRoomFigures> {
  const join = await runLoad({
    concurrency: o.concurrency,
    durationMs: o.durationMs,
    maxOps: buyers.length,
    op: async (_l, i) => {
      const r = await http.request('POST', `/v1/events/${eventId}/queue`, {
        token: buyers[i]!.token,
        headers: { 'x-forwarded-for': clientAddress(i) },
      });
      return r.status === 201 || r.status === 200 ? 'ok' : `http${r.status}`;
    },
    onTick: (n) => progress(`queue join: ${n}`),
  });
  const joined = Math.max(1, join.outcomes.ok ?? 0);
  const me = await runLoad({
    concurrency: o.concurrency,
    durationMs: o.durationMs,
    op: async (_l, i) => {
      const r = await http.request('GET', `/v1/events/${eventId}/queue/me`, { token: buyers[i % joined]!.token });
      return r.status === 200 ? 'ok' : `http${r.status}`;
    },
    onTick: (n) => progress(`queue/me: ${n}`),
  });
  return { join, me };
}
