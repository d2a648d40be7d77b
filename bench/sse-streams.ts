/**
 * How many seat-map streams one API process holds, and what each costs.
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx bench/sse-streams.ts [--streams 10000] [--rounds 20]
 *
 * The API runs in a child process (the real app, real Redis and Postgres) so
 * its memory is measured apart from the clients. The parent opens the streams
 * over raw sockets, reads each snapshot, then publishes seat changes through
 * SeatCache.apply (the path every committed change takes) and times how long
 * each change takes to reach every stream. It prints numbers; it asserts
 * nothing.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { serve } from '@hono/node-server';
import { createPool } from '../db/pool';
import { loadConfig } from '../platform/config';
import { createRedis } from '../platform/redis';
import { SeatCache } from '../services/seat-cache';

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

// ------------------------------------------------------------- the server --

async function server(): Promise<void> {
  const { createApiDeps } = await import('../api/server');
  const { createApp } = await import('../api/app');
  const deps = await createApiDeps();
  const app = createApp(deps);
  const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => process.send!({ port: info.port }));
  s.on('connection', (sock) => sock.setNoDelay(true));
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'mem') {
      global.gc?.();
      global.gc?.();
      const u = process.memoryUsage();
      process.send!({ mem: { rss: u.rss, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers } });
    }
    if (m.cmd === 'exit') process.exit(0);
  });
}

// -------------------------------------------------------------- the bench --

function ask<T>(child: ChildProcess, cmd: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', on);
        resolve(m[key] as T);
      }
    };
    child.on('message', on);
    child.send({ cmd });
  });
}

let refused = 0;
let stopping = false;

interface Client {
  socket: net.Socket;
  ready: boolean;
  text: string;
}

function openStream(port: number, path: string, onReady: () => void, onData: (c: Client, chunk: string) => void, c?: Client): Client {
  const socket = net.connect({ port, host: '127.0.0.1' });
  c ??= { socket, ready: false, text: '' };
  c.socket = socket;
  c.text = '';
  const client = c;
  socket.setEncoding('utf8');
  socket.setNoDelay(true);
  socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`));
  socket.on('data', (chunk: string) => {
    if (!client.ready) {
      client.text += chunk;
      if (client.text.includes('event: snapshot')) {
        client.ready = true;
        client.text = '';
        onReady();
      } else if (/^HTTP\/1\.1 [45]/.test(client.text)) {
        refused++;
        socket.destroy();
      }
      return;
    }
    onData(client, chunk);
  });
  socket.on('error', () => undefined);
  // Refused (shed) or dropped before its snapshot: try again shortly, as a browser would.
  socket.on('close', () => {
    if (!client.ready && !stopping) setTimeout(() => openStream(port, path, onReady, onData, client), 250);
  });
  return client;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const loadavg = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return 'unknown';
  }
};
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

async function bench(): Promise<void> {
  const streams = arg('streams', 10_000);
  const rounds = arg('rounds', 20);
  const config = loadConfig();
  const loadAtStart = loadavg();
  const child = fork(__filename, ['server'], {
    execArgv: [...process.execArgv, '--expose-gc'],
    env: { ...process.env, LOG_LEVEL: 'warn', SHED_MAX_IN_FLIGHT: process.env.SHED_MAX_IN_FLIGHT ?? '1024' },
  });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
  const base = `http://127.0.0.1:${port}`;

  const created = await fetch(`${base}/v1/admin/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${config.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'SSE bench',
      waitingRoom: { enabled: false },
      sections: [{ id: 'A', name: 'A', rows: 10, seatsPerRow: 10, priceCents: 1000 }],
    }),
  });
  const { eventId } = (await created.json()) as { eventId: string };
  const path = `/v1/events/${eventId}/seats/stream`;
  await (await fetch(`${base}/v1/events/${eventId}/seats`)).arrayBuffer(); // builds the seat cache once

  const before = await ask<Mem>(child, 'mem', 'mem');
  let ready = 0;
  let waiting: { marker: string; got: number; times: number[]; t0: number; done: () => void } | null = null;
  const onData = (_c: Client, chunk: string) => {
    const w = waiting;
    if (w && chunk.includes(w.marker)) {
      w.times.push(performance.now() - w.t0);
      if (++w.got === streams) w.done();
    }
  };
  const clients: Client[] = [];
  const openStarted = performance.now();
  const BATCH = 500;
  for (let i = 0; i < streams; i += BATCH) {
    const target = Math.min(streams, i + BATCH);
    await new Promise<void>((resolve) => {
      const onReady = () => {
        ready++;
        if (ready === target) resolve();
      };
      for (let k = i; k < target; k++) clients.push(openStream(port, path, onReady, onData));
    });
    if (target % 2000 === 0) process.stderr.write(`open: ${target} streams (${refused} refusals retried)\n`);
  }
  const openSeconds = (performance.now() - openStarted) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const after = await ask<Mem>(child, 'mem', 'mem');

  const redis = createRedis(config.REDIS_URL, 'sse-bench');
  const pool = createPool(config.DATABASE_URL, { max: 2 });
  const cache = new SeatCache(redis, pool);
  const rows: { round: number; first: number; p50: number; p99: number; last: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    const { rows: v } = await pool.query<{ v: string }>(`SELECT nextval('seat_version_seq')::text AS v`);
    const version = Number(v[0]!.v);
    const times: number[] = [];
    await new Promise<void>((resolve) => {
      waiting = { marker: `"version":${version}`, got: 0, times, t0: performance.now(), done: resolve };
      void cache.apply(eventId, [{ seatId: 'A-1-1', status: round % 2 ? 'available' : 'held', version } as never]);
    });
    waiting = null;
    rows.push({ round, first: Math.min(...times), p50: pct(times, 50), p99: pct(times, 99), last: Math.max(...times) });
    await new Promise((r) => setTimeout(r, 200));
  }

  const heapPer = (after.heapUsed - before.heapUsed) / streams;
  const rssPer = (after.rss - before.rss) / streams;
  const extPer = (after.external - before.external) / streams;
  const p = (k: 'first' | 'p50' | 'p99' | 'last') => rows.map((r) => r[k]);
  const out = {
    streams,
    openSeconds: Number(openSeconds.toFixed(2)),
    serverMemory: { before, after },
    perStream: { heapBytes: Math.round(heapPer), rssBytes: Math.round(rssPer), externalBytes: Math.round(extPer) },
    fanoutMs: {
      rounds,
      firstStream: { median: pct(p('first'), 50), worst: Math.max(...p('first')) },
      p50OfStreams: { median: pct(p('p50'), 50), worst: Math.max(...p('p50')) },
      p99OfStreams: { median: pct(p('p99'), 50), worst: Math.max(...p('p99')) },
      lastStream: { median: pct(p('last'), 50), p99: pct(p('last'), 99), worst: Math.max(...p('last')) },
    },
    loadavg: { start: loadAtStart, end: loadavg() },
  };
  process.stdout.write(
    [
      `seat-map SSE streams held by one API process: ${streams} (opened in ${out.openSeconds} s)`,
      `server memory before: rss ${mb(before.rss)}, heap ${mb(before.heapUsed)}`,
      `server memory after:  rss ${mb(after.rss)}, heap ${mb(after.heapUsed)}`,
      `per stream: heap ${kb(heapPer)}, rss ${kb(rssPer)}, external ${kb(extPer)}`,
      `fan-out latency, publish → delivered to every stream, over ${rounds} changes (ms):`,
      `  first stream: median ${out.fanoutMs.firstStream.median.toFixed(1)}, worst ${out.fanoutMs.firstStream.worst.toFixed(1)}`,
      `  median stream: median ${out.fanoutMs.p50OfStreams.median.toFixed(1)}, worst ${out.fanoutMs.p50OfStreams.worst.toFixed(1)}`,
      `  99th pct stream: median ${out.fanoutMs.p99OfStreams.median.toFixed(1)}, worst ${out.fanoutMs.p99OfStreams.worst.toFixed(1)}`,
      `  last stream: median ${out.fanoutMs.lastStream.median.toFixed(1)}, p99 ${out.fanoutMs.lastStream.p99.toFixed(1)}, worst ${out.fanoutMs.lastStream.worst.toFixed(1)}`,
      `machine load (/proc/loadavg): at start ${out.loadavg.start}; at end ${out.loadavg.end}`,
      `(the API runs in its own process; the clients and the publisher in this one, on the same machine's cores)`,
      JSON.stringify(out),
      '',
    ].join('\n'),
  );
  stopping = true;
  for (const c of clients) c.socket.destroy();
  await Promise.allSettled([redis.quit(), pool.end()]);
  child.send({ cmd: 'exit' });
}

if (process.argv[2] === 'server') {
  server().catch((err: unknown) => {
    process.stderr.write(`bench server failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
} else {
  bench().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
