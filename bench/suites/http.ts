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
import { type LoadResult, mergeLoads, runLoad } from '../lib/load';

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
    // Only the status is checked: decoding a compressed body as text would make the load generator, not the
    // server, the figure measured.
    op: async () => ((await http.request('GET', path, { headers: opts.headers, raw: true })).status === want ? 'ok' : 'error'),
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
  /** GET /healthz in slices alternating with the join and /queue/me slices: the baseline measured beside them. */
  healthz: LoadResult;
}

/**
 * An open 100-seat event with a waiting room whose joins cost no proof of
 * work: the request path's cost alone (proof of work is measured by
 * bench/adversaries.ts). Returns its id.
 */
export async function openWaitingRoomEvent(http: HttpClient, config: Config, name: string): Promise<string> {
  const created = await http.json('POST', '/v1/admin/events', {
    token: config.ADMIN_TOKEN,
    body: {
      name,
      holdSeconds: 300,
      maxSeatsPerBuyer: 6,
      waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60, powDemandDifficulty: 0 },
      sections: [{ id: 'A', name: 'Floor', rows: 10, seatsPerRow: 10, priceCents: 5000 }],
    },
  });
  const eventId = (created.body as { eventId: string }).eventId;
  await http.json('POST', `/v1/admin/events/${eventId}/open`, { token: config.ADMIN_TOKEN });
  return eventId;
}

/**
 * Joins with a new buyer from a new address per request, and polls /queue/me
 * round-robin over the buyers that joined (the API allows each buyer a few
 * polls a second; spreading them keeps this a throughput figure, not a
 * rate-limit one), in slices that alternate with GET /healthz on the same
 * server and rotate which goes first, so the machine's load falls on the
 * three alike.
 */
export async function benchWaitingRoom(
  http: HttpClient,
  eventId: string,
  buyers: { token: string }[],
  o: HttpOptions,
  progress: Progress,
  rounds = 3,
): Promise<WaitingRoomFigures> {
  const sliceMs = Math.max(500, Math.round(o.durationMs / rounds));
  let nextJoin = 0;
  let joined = 0;
  const kinds = {
    healthz: () =>
      runLoad({
        concurrency: o.concurrency,
        durationMs: sliceMs,
        keepLatencies: true,
        op: async () => ((await http.request('GET', '/healthz')).status === 200 ? 'ok' : 'error'),
        onTick: (n) => progress(`healthz beside the queue: ${n}`),
      }),
    join: () =>
      runLoad({
        concurrency: o.concurrency,
        durationMs: sliceMs,
        maxOps: Math.max(0, buyers.length - nextJoin),
        keepLatencies: true,
        op: async () => {
          const i = nextJoin++;
          const r = await http.request('POST', `/v1/events/${eventId}/queue`, {
            token: buyers[i]!.token,
            headers: { 'x-forwarded-for': clientAddress(i) },
          });
          if (r.status === 201 || r.status === 200) joined = Math.max(joined, i + 1);
          return r.status === 201 || r.status === 200 ? 'ok' : `http${r.status}`;
        },
        onTick: (n) => progress(`queue join: ${n}`),
      }),
    me: () =>
      runLoad({
        concurrency: o.concurrency,
        durationMs: sliceMs,
        keepLatencies: true,
        op: async (_l, i) => {
          const r = await http.request('GET', `/v1/events/${eventId}/queue/me`, { token: buyers[i % Math.max(1, joined)]!.token });
          return r.status === 200 ? 'ok' : `http${r.status}`;
        },
        onTick: (n) => progress(`queue/me: ${n}`),
      }),
  };
  const names = ['join', 'healthz', 'me'] as const;
  const slices: Record<(typeof names)[number], LoadResult[]> = { healthz: [], join: [], me: [] };
  for (let r = 0; r < rounds; r++) {
    // The first round starts with joins, so /queue/me always has buyers to poll.
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length]!;
      if (name === 'me' && joined === 0) slices.join.push(await kinds.join());
      slices[name].push(await kinds[name]());
    }
  }
  return { join: mergeLoads(slices.join), me: mergeLoads(slices.me), healthz: mergeLoads(slices.healthz) };
}
