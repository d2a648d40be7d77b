/**
 * onsale's benchmarks and flash-crowd simulator, in one run, each figure next
 * to a baseline measured in the same run on the same machine.
 *
 *   npm run bench -- --quick                 under two minutes (the CI smoke test runs this)
 *   npm run bench -- --full                  the README's figures
 *   options: --json <file>  --out <dir> (default .state/bench/<time>)  --only http,holds,temporal,admission,sse,simulate
 *            --no-png  --quiet  --seed <n>
 *
 * Needs the stack (./onsale stack up) and its settings in the environment
 * (set -a; source .state/stack.env; set +a). Load goes to 127.0.0.1 only and
 * every loop is bounded in time and count.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { createPool } from '../db/pool';
import { connectClient } from '../platform/temporal';
import { HttpClient } from './lib/http';
import { Progress } from './lib/progress';
import { benchConfig, startApiProcess, startWorkers } from './lib/services';
import { ratio, round } from './lib/stats';
import { renderHtml } from './report/html';
import { renderPng } from './report/png';
import { renderTable } from './report/table';
import { type SimOptions, simulate } from './simulate';
import { benchContention, type ContentionOptions } from './suites/contention';
import { benchHolds, type HoldsOptions } from './suites/holds';
import { benchCompactSeatMap } from './suites/compact-seatmap';
import {
  benchGet,
  benchRawRedis,
  benchWaitingRoom,
  hasRoute,
  type HttpOptions,
  mintBuyers,
  openWaitingRoomEvent,
  redisBenchmark,
} from './suites/http';
import { benchSse, type SseOptions } from './suites/sse';
import { benchTemporal, type TemporalOptions } from './suites/temporal';
import {
  type AdmissionOptions,
  benchAdmission,
  DEPLOYED_IDLE_SLEEP_SECONDS,
  onsaleCostWithAdmission,
  TICKING_IDLE_ACTIONS_PER_HOUR,
} from './suites/admission';
import type { BenchResult, Figure } from './types';

const ROOT = path.resolve(__dirname, '..');
const SUITES = ['http', 'contention', 'holds', 'temporal', 'admission', 'sse', 'simulate'] as const;
type Suite = (typeof SUITES)[number];

interface ModeSettings {
  http: HttpOptions;
  contention: ContentionOptions;
  seatMapSections: number;
  holds: Omit<HoldsOptions, 'seed'>;
  /** The same strategies on the on-sale's first seconds: every seat wanted by ten buyers at once. */
  holdsFlash: Omit<HoldsOptions, 'seed'>;
  temporal: TemporalOptions;
  admission: AdmissionOptions;
  sse: SseOptions;
  sim: Omit<SimOptions, 'seed'>;
}

export const MODES: Record<'quick' | 'full', ModeSettings> = {
  quick: {
    http: { concurrency: 32, durationMs: 2500, joiners: 4000 },
    contention: {
      seats: { rows: 10, seatsPerRow: 20 },
      contention: 10,
      concurrency: 100,
      slices: 4,
      losingAttempts: 2000,
      openLoopAttempts: 2000,
      expiringHolds: 40,
    },
    seatMapSections: 1, // 5,000 seats
    holds: { rows: 60, seatsPerRow: 50, attempts: 4000, concurrency: 24, durationMs: 8000 },
    holdsFlash: { rows: 10, seatsPerRow: 80, attempts: 8000, concurrency: 64, durationMs: 12000, workload: 'flash', contention: 10 },
    temporal: { checkouts: 20, empties: 80, concurrency: 12, durationMs: 8000, seatsPerCheckout: 2 },
    admission: { cycleSeconds: 3, idleSeconds: 15, stormJoins: 1000, stormSeconds: 3, firstBuyerSamples: 3, quietSeconds: 2 },
    sse: { streams: 100, changes: 8, intervalMs: 100 },
    sim: {
      humans: 25,
      botsPerHuman: 20,
      seats: { rows: 4, seatsPerRow: 12, sections: 3 },
      arrivalSeconds: 5,
      arrivalCurve: 'spike',
      prequeueSeconds: 1,
      abandonShare: 0.15,
      declineShare: 0.1,
      maxSeconds: 25,
      holdSeconds: 30,
      maxActiveCheckouts: 50,
      admitPerMinute: 3000,
    },
  },
  full: {
    http: { concurrency: 64, durationMs: 10_000, joiners: 40_000 },
    contention: {
      seats: { rows: 25, seatsPerRow: 20 },
      contention: 10,
      concurrency: 100,
      slices: 6,
      losingAttempts: 10_000,
      openLoopAttempts: 10_000,
      expiringHolds: 200,
    },
    seatMapSections: 10, // 50,000 seats: one event at the design's size
    holds: { rows: 100, seatsPerRow: 100, attempts: 20_000, concurrency: 32, durationMs: 60_000 },
    holdsFlash: { rows: 40, seatsPerRow: 50, attempts: 20_000, concurrency: 64, durationMs: 60_000, workload: 'flash', contention: 10 },
    temporal: { checkouts: 200, empties: 800, concurrency: 32, durationMs: 60_000, seatsPerCheckout: 2 },
    admission: { cycleSeconds: 10, idleSeconds: 90, stormJoins: 5000, stormSeconds: 10, firstBuyerSamples: 5, quietSeconds: 15 },
    sse: { streams: 1000, changes: 30, intervalMs: 200 },
    sim: {
      humans: 400,
      botsPerHuman: 20,
      seats: { rows: 10, seatsPerRow: 25, sections: 4 },
      arrivalSeconds: 20,
      arrivalCurve: 'spike',
      prequeueSeconds: 3,
      abandonShare: 0.15,
      declineShare: 0.1,
      maxSeconds: 150,
      holdSeconds: 60,
      maxActiveCheckouts: 300,
      admitPerMinute: 12_000,
    },
  },
};

export interface BenchArgs {
  mode: 'quick' | 'full';
  json?: string;
  out?: string;
  only?: Suite[];
  png: boolean;
  quiet: boolean;
  seed: number;
}

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = { mode: 'quick', png: true, quiet: false, seed: 20261128 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') a.mode = 'quick';
    else if (arg === '--full') a.mode = 'full';
    else if (arg === '--json') a.json = value();
    else if (arg === '--out') a.out = value();
    else if (arg === '--only') {
      const only = value().split(',') as Suite[];
      const unknown = only.filter((s) => !SUITES.includes(s));
      if (unknown.length) throw new Error(`unknown suite ${unknown.join(', ')}; known: ${SUITES.join(', ')}`);
      a.only = only;
    } else if (arg === '--no-png') a.png = false;
    else if (arg === '--quiet') a.quiet = true;
    else if (arg === '--seed') a.seed = Number(value());
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        readFileSync(__filename, 'utf8')
          .split('*/')[0]!
          .replace(/^\/\*\*?|^ \* ?/gm, '') + '\n',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (try --help)`);
  }
  return a;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return 'unknown';
  }
}

async function versions(databaseUrl: string, redisUrl: string): Promise<Record<string, string>> {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  const pool = createPool(databaseUrl, { max: 1 });
  const redis = new Redis(redisUrl);
  try {
    const pg = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? 'unknown';
    const info = await redis.info('server');
    const temporalCli = sh('bash', ['-c', 'ps -eo args | grep -o "temporal-cli-v[0-9][0-9.]*" | head -1']);
    return {
      onsale: (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
      commit: sh('git', ['rev-parse', '--short', 'HEAD']) + (sh('git', ['status', '--porcelain', '--untracked-files=no']) ? '+dirty' : ''),
      node: process.version,
      postgres: pg,
      redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      temporalServer: temporalCli ? `${temporalCli} (dev server)` : 'unknown',
      temporalSdk: pkg('@temporalio/client'),
      hono: pkg('hono'),
      pg: pkg('pg'),
      ioredis: pkg('ioredis'),
    };
  } finally {
    await Promise.allSettled([pool.end(), redis.quit()]);
  }
}

export async function runBench(args: BenchArgs): Promise<BenchResult> {
  const settings = MODES[args.mode];
  const want = (s: Suite) => !args.only || args.only.includes(s);
  const progress = new Progress(args.quiet);
  // The holds suite runs two workloads, one step each.
  const steps = ['start', ...SUITES.filter(want).flatMap((s) => (s === 'holds' ? [s, s] : [s])), 'report'];
  progress.plan(steps.length);
  const started = Date.now();
  const config = benchConfig();
  const result: BenchResult = {
    mode: args.mode,
    startedAt: new Date().toISOString(),
    seconds: 0,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
    },
    versions: await versions(config.DATABASE_URL, config.REDIS_URL),
    figures: [],
    latencies: {},
    details: {},
    skipped: [],
    notes: [
      'Every figure and its baseline run in the same process run, one after the other, on the same machine; the ratio is the comparison to trust, not the absolute number.',
      'The load generator shares the machine with the servers it drives (API in its own process; Postgres, Redis, Temporal dev server alongside).',
    ],
    ok: true,
  };
  const fig = (f: Figure) => result.figures.push(f);

  progress.step('starting the API process and workers');
  const api = await startApiProcess(config);
  const workers = await startWorkers(config);
  const temporal = await connectClient(config);
  const http = new HttpClient(api.url, settings.http.concurrency + 8);
  const pool = createPool(config.DATABASE_URL, { max: 4, application_name: 'onsale-bench' });
  const detail = (t: string) => progress.detail(t);
  try {
    // ------------------------------------------------------------------ HTTP
    if (want('http')) {
      progress.step('HTTP: bare endpoint, raw Redis, seat map, waiting room');
      const o = settings.http;
      const health = await benchGet(http, '/healthz', o, detail, 'healthz');
      const raw = await benchRawRedis(config.REDIS_URL, o, detail);
      const rb = await redisBenchmark(config.REDIS_URL, args.mode === 'quick' ? 100_000 : 1_000_000);
      const sections = Array.from({ length: settings.seatMapSections }, (_, i) => ({
        id: `S${i + 1}`,
        name: `Section ${i + 1}`,
        rows: 50,
        seatsPerRow: 100,
        priceCents: 15000 - i * 1000,
      }));
      const mapEvent = await http.json('POST', '/v1/admin/events', {
        token: config.ADMIN_TOKEN,
        body: { name: 'bench seat map', holdSeconds: 300, maxSeatsPerBuyer: 6, waitingRoom: { enabled: false }, sections },
      });
      if (mapEvent.status !== 201) throw new Error(`creating the seat-map event failed: ${mapEvent.status}`);
      const mapEventId: string = mapEvent.body.eventId;
      await http.json('POST', `/v1/admin/events/${mapEventId}/open`, { token: config.ADMIN_TOKEN });
      const firstMap = await http.request('GET', `/v1/events/${mapEventId}/seats`);
      const mapBytes = Buffer.byteLength(firstMap.body);
      const seatMap = await benchGet(
        http,
        `/v1/events/${mapEventId}/seats`,
        { ...o, concurrency: Math.min(o.concurrency, 16) },
        detail,
        'seat map',
      );
      const healthRate = health.rates.ok ?? 0;
      const rawRate = raw.rates.ok ?? 0;
      fig({
        group: 'HTTP',
        name: 'GET /healthz (bare endpoint)',
        value: healthRate,
        unit: 'req/s',
        note: `p50 ${health.latency.p50} ms, p99 ${health.latency.p99} ms`,
      });
      fig({ group: 'Redis', name: 'raw INCR, pipelined (ioredis, 4×100 in flight)', value: rawRate, unit: 'ops/s' });
      if (rb) {
        fig({ group: 'Redis', name: 'redis-benchmark INCR -c 50 -P 16', value: rb.pipelined16, unit: 'ops/s' });
        fig({ group: 'Redis', name: 'redis-benchmark INCR -c 50, no pipelining', value: rb.unpipelined, unit: 'ops/s' });
      } else result.skipped.push('redis-benchmark: not installed (apt-get install redis-tools)');
      fig({
        group: 'Seat map',
        name: `GET /seats (${sections.length * 5000} seats, ${round(mapBytes / 1024, 0)} KiB)`,
        value: seatMap.rates.ok ?? 0,
        unit: 'req/s',
        baseline: 'GET /healthz',
        baselineValue: healthRate,
        ratio: ratio(seatMap.rates.ok ?? 0, healthRate),
        note: `${round(((seatMap.rates.ok ?? 0) * mapBytes) / 2 ** 20, 1)} MiB/s; p50 ${seatMap.latency.p50} ms, p99 ${seatMap.latency.p99} ms`,
        chart: 'seat map',
      });
      result.latencies['healthz'] = health.latency;
      result.latencies['seat map'] = seatMap.latency;
      const timelines: Record<string, [number, number][]> = { healthz: health.timeline.ok ?? [], 'seat map': seatMap.timeline.ok ?? [] };
      const results: Record<string, typeof health> = { healthz: health, rawRedis: raw, seatMap };

      if (await hasRoute(http, 'GET', `/v1/events/${mapEventId}/seats/status`)) {
        const compact = await benchCompactSeatMap(http, config, o, detail);
        result.details.compactSeatMap = compact;
        const base = compact.healthz.rates.ok ?? 0;
        const vs = (name: string, r: typeof health, note = '') =>
          fig({
            group: 'Seat map',
            name,
            value: r.rates.ok ?? 0,
            unit: 'req/s',
            baseline: 'GET /healthz (measured next to it)',
            baselineValue: base,
            ratio: ratio(r.rates.ok ?? 0, base),
            note: `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms${note}`,
          });
        for (const [coding, b] of Object.entries(compact.statusBytes)) {
          fig({
            group: 'Seat map',
            name: `GET /seats/status, ${compact.seats} seats (${compact.changedShare}% held or sold): bytes on the wire, ${coding}`,
            value: b,
            unit: 'bytes',
            baseline: 'GET /seats, same coding',
            baselineValue: compact.fullBytes[coding] ?? 0,
            ratio: ratio(b, compact.fullBytes[coding] ?? 0),
          });
        }
        fig({
          group: 'Seat map',
          name: `GET /seatmap (layout), ${compact.seats} seats: bytes on the wire, gzip`,
          value: compact.layoutBytes.gzip ?? 0,
          unit: 'bytes',
          note: `identity ${compact.layoutBytes.identity} bytes, br ${compact.layoutBytes.br} bytes`,
        });
        vs(`GET /seats/status, ${compact.seats} seats, gzip`, compact.status);
        vs('GET /seats/status → 304 (If-None-Match, unchanged)', compact.status304);
        vs('GET /seatmap → 304 (If-None-Match, unchanged)', compact.layout304);
        result.latencies['seat statuses'] = compact.status.latency;
        timelines['seat statuses'] = compact.status.timeline.ok ?? [];
      } else result.skipped.push('compact seat map: GET /v1/events/{id}/seats/status is not served by this API yet');

      const probeBuyer = (await mintBuyers(config, 1, 'probe'))[0]!;
      if (await hasRoute(http, 'POST', `/v1/events/${mapEventId}/queue`, probeBuyer.token)) {
        const wrEventId = await openWaitingRoomEvent(http, config, 'bench waiting room');
        detail('minting buyers for the waiting room');
        const buyers = await mintBuyers(config, o.joiners, 'wr');
        const wr = await benchWaitingRoom(http, wrEventId, buyers, o, detail);
        const joinRate = wr.join.rates.ok ?? 0;
        const meRate = wr.me.rates.ok ?? 0;
        const besideRate = wr.healthz.rates.ok ?? 0;
        const other = (l: typeof wr.join) =>
          Object.entries(l.outcomes)
            .filter(([k]) => k !== 'ok')
            .map(([k, n]) => `${k}: ${n}`)
            .join(', ');
        for (const [name, rate, load, label] of [
          ['POST /queue (join, new buyer each)', joinRate, wr.join, 'queue join'],
          ['GET /queue/me', meRate, wr.me, 'queue/me'],
        ] as const) {
          fig({
            group: 'Waiting room',
            name,
            value: rate,
            unit: 'req/s',
            baseline: 'GET /healthz (alternating slices)',
            baselineValue: besideRate,
            ratio: ratio(rate, besideRate),
            note: `p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms${other(load) ? `; ${other(load)}` : ''}${load.outcomes.ok === buyers.length ? '; stopped at the minted-buyer cap' : ''}`,
            chart: label,
          });
          fig({
            group: 'Waiting room',
            name: `${name} vs raw Redis`,
            value: rate,
            unit: 'req/s',
            baseline: 'raw INCR pipelined',
            baselineValue: rawRate,
            ratio: ratio(rate, rawRate),
          });
          result.latencies[label] = load.latency;
          timelines[label] = load.timeline.ok ?? [];
        }
        results.join = wr.join;
        results.me = wr.me;
      } else result.skipped.push('waiting room: POST /v1/events/{id}/queue is not served by this API yet');
      result.details.http = { timelines, results, redisBenchmark: rb };

      // ------------------------------------------------------------------ SSE
      if (want('sse')) {
        progress.step('SSE fan-out');
        if (await hasRoute(http, 'GET', `/v1/events/${mapEventId}/seats/stream?probe=1`).catch(() => false)) {
          const sse = await benchSse(api.url, mapEventId, config, settings.sse, detail);
          result.details.sse = sse;
          fig({
            group: 'Seat map',
            name: `SSE fan-out latency p50 (${sse.connected} streams)`,
            value: sse.latency.p50,
            unit: 'ms',
            note: `p99 ${sse.latency.p99} ms, max ${sse.latency.max} ms; ${sse.deliveries}/${sse.expectedDeliveries} deliveries`,
          });
          fig({ group: 'Seat map', name: `SSE fan-out latency p99 (${sse.connected} streams)`, value: sse.latency.p99, unit: 'ms' });
          result.latencies['SSE delivery'] = sse.latency;
          if (sse.deliveries < sse.expectedDeliveries)
            result.notes.push(
              `SSE: ${sse.expectedDeliveries - sse.deliveries} of ${sse.expectedDeliveries} deliveries did not arrive within the run.`,
            );
        } else result.skipped.push('SSE: GET /v1/events/{id}/seats/stream is not served by this API yet');
      }
    }

    // ----------------------------------------------------------- contention
    if (want('contention')) {
      progress.step('hold attempts through HTTP at 10:1 contention');
      const c = await benchContention(http, config, pool, { api: api.pid, worker: workers.pid }, settings.contention, args.seed, detail);
      result.details.contention = c;
      const o = settings.contention;
      const seats = o.seats.rows * o.seats.seatsPerRow;
      const holdRate = round((c.holds.outcomes.held ?? 0) / c.holds.seconds + (c.holds.outcomes.rejected ?? 0) / c.holds.seconds, 1);
      const healthRate = c.healthz.rates.ok ?? 0;
      fig({
        group: 'Contention',
        name: `hold attempts/s through HTTP, ${o.contention}:1 contention (${seats * o.contention} buyers, ${seats} seats)`,
        value: holdRate,
        unit: 'attempts/s',
        baseline: 'GET /healthz, same server, alternating slices',
        baselineValue: healthRate,
        ratio: ratio(holdRate, healthRate),
        note: `target ≥ 0.3; ${JSON.stringify(c.outcomes)}; ${o.slices} alternating slices`,
        chart: 'hold attempts vs healthz',
      });
      fig({
        group: 'Contention',
        name: `hold p99 at ${o.concurrency} in flight, ${o.contention}:1 contention`,
        value: c.holds.latency.p99,
        unit: 'ms',
        note: `target ≤ 1000 ms; worst slice's p50 ${c.holds.latency.p50} ms (slices' p99 max); winners p50 ${c.heldLatency?.p50 ?? '-'} ms p99 ${c.heldLatency?.p99 ?? '-'} ms (through Temporal); losers p50 ${c.rejectedLatency?.p50 ?? '-'} ms p99 ${c.rejectedLatency?.p99 ?? '-'} ms`,
      });
      const losingRate = round((c.losing.outcomes.rejected ?? 0) / c.losing.seconds, 1);
      fig({
        group: 'Contention',
        name: `losing hold attempts/s through HTTP, closed loop at ${o.concurrency} in flight (every seat taken)`,
        value: losingRate,
        unit: 'attempts/s',
        baseline: 'GET /healthz, same server, run next',
        baselineValue: c.healthzAfterLosing,
        ratio: ratio(losingRate, c.healthzAfterLosing),
        note: `p50 ${c.losing.latency.p50} ms, p99 ${c.losing.latency.p99} ms`,
        chart: 'losing hold attempts vs healthz',
      });
      const ol = c.openLoopLosing;
      fig({
        group: 'Contention',
        name: `losing hold p99, open loop at ${ol.offeredPerSecond}/s (half the closed loop's rate)`,
        value: ol.latency.p99,
        unit: 'ms',
        note: `target ≤ 1000 ms for the hold p99; p50 ${ol.latency.p50} ms, max ${ol.latency.max} ms; ${ol.outcomes.rejected ?? 0} answered 409, ${ol.outcomes.error ?? 0} errors, ${ol.dropped} not sent (over 1,000 in flight); latency from each attempt's due time`,
      });
      fig({
        group: 'Contention',
        name: 'CPU per losing attempt, summed over API, Postgres, Redis, Temporal server',
        value: c.losingCpuMsPerAttemptPathTotal,
        unit: 'ms CPU',
        baseline: 'GET /healthz, API CPU per request',
        baselineValue: c.healthzApiCpuMsPerRequest,
        ratio: ratio(c.losingCpuMsPerAttemptPathTotal, c.healthzApiCpuMsPerRequest),
        note: `target ≤ 0.5 ms; by process ${JSON.stringify(c.losingCpuMsPerAttempt)}; Postgres counts only the backends of the benchmark's database; Redis and the Temporal server are whole processes, shared with any other work on this machine; measured after the winners' checkouts had settled (${round(c.settleMs / 1000, 1)} s after the mixed run)`,
      });
      fig({
        group: 'Contention',
        name: `seats back on sale after the window ends (real clock, ${c.expiry.holds} holds of 30 s)`,
        value: c.expiry.lateMs.p99,
        unit: 'ms p99',
        note: `target ≤ 2000 ms; p50 ${round(c.expiry.lateMs.p50, 0)} ms, max ${round(c.expiry.lateMs.max, 0)} ms`,
      });
      result.latencies['hold (HTTP, contention)'] = c.holds.latency;
    }

    // ---------------------------------------------------------------- holds
    if (want('holds')) {
      for (const [group, s] of [
        ['Holds', settings.holds],
        ['Holds, flash crowd', settings.holdsFlash],
      ] as const) {
        progress.step(`seat holds under contention (Postgres, ${s.workload ?? 'spread'})`);
        const holds = await benchHolds(config.DATABASE_URL, { ...s, seed: args.seed }, detail, config.REDIS_URL);
        result.details[s.workload === 'flash' ? 'holdsFlash' : 'holds'] = holds;
        const by = Object.fromEntries(holds.map((h) => [h.strategy, h]));
        const scene =
          s.workload === 'flash'
            ? `the best ${Math.ceil(s.attempts / (s.contention ?? 10))} seats each wanted by ${s.contention ?? 10} buyers at once (${s.attempts} attempts, one seat each, best seats first), ${s.concurrency} connections`
            : `${s.attempts} attempts of 1–4 adjacent seats on ${s.rows * s.seatsPerRow} seats, ${s.concurrency} connections`;
        for (const h of holds) {
          const held = h.load.latencyByOutcome.held;
          const rej = h.load.latencyByOutcome.rejected;
          fig({
            group,
            name: `${h.strategy}: successful holds/s`,
            value: h.holdsPerSecond,
            unit: 'holds/s',
            ...(h.strategy !== 'naive' &&
              h.strategy !== 'optimistic' &&
              by.naive && {
                baseline: 'naive FOR UPDATE',
                baselineValue: by.naive.holdsPerSecond,
                ratio: ratio(h.holdsPerSecond, by.naive.holdsPerSecond),
              }),
            note: `rejected ${h.rejectedPerSecond}/s; held p50 ${held?.p50 ?? '-'} ms p99 ${held?.p99 ?? '-'} ms; rejected p50 ${rej?.p50 ?? '-'} ms p99 ${rej?.p99 ?? '-'} ms; ${h.seatsHeld} seats held; errors ${h.errors}${h.retries !== undefined ? `; ${h.retries} lost races retried` : ''}`,
            ...(h.strategy === 'onsale' && { chart: `${group.toLowerCase()} vs naive` }),
          });
          fig({
            group,
            name: `${h.strategy}: attempts answered/s (held + rejected)`,
            value: h.attemptsPerSecond,
            unit: 'attempts/s',
            ...((h.strategy === 'onsale' || h.strategy === 'onsale-gated') &&
              by.naive && {
                baseline: 'naive FOR UPDATE',
                baselineValue: by.naive.attemptsPerSecond,
                ratio: ratio(h.attemptsPerSecond, by.naive.attemptsPerSecond),
              }),
          });
          fig({
            group,
            name: `${h.strategy}: p99 latency, all attempts`,
            value: h.load.latency.p99,
            unit: 'ms',
            ...(h.strategy === 'onsale' &&
              by.naive && {
                baseline: 'naive FOR UPDATE',
                baselineValue: by.naive.load.latency.p99,
                ratio: ratio(h.load.latency.p99, by.naive.load.latency.p99),
              }),
            note: `p50 ${h.load.latency.p50} ms`,
          });
          fig({
            group,
            name: `${h.strategy}: Postgres CPU per attempt`,
            value: h.cpuMicrosPerAttempt.postgres,
            unit: 'µs CPU',
            ...(h.strategy !== 'naive' &&
              by.naive && {
                baseline: 'naive FOR UPDATE',
                baselineValue: by.naive.cpuMicrosPerAttempt.postgres,
                ratio: ratio(h.cpuMicrosPerAttempt.postgres, by.naive.cpuMicrosPerAttempt.postgres),
              }),
            note: `client (this process) ${h.cpuMicrosPerAttempt.client} µs CPU per attempt; Redis server ${h.cpuMicrosPerAttempt.redis} µs (every strategy's figure includes whatever else Redis served meanwhile); Postgres backends and Redis from /proc/<pid>/schedstat`,
          });
          result.latencies[`${group.toLowerCase()}: ${h.strategy}`] = h.load.latency;
        }
        if (by.onsale && by.optimistic) {
          fig({
            group,
            name: 'onsale vs optimistic: successful holds/s',
            value: by.onsale.holdsPerSecond,
            unit: 'holds/s',
            baseline: 'optimistic version retry',
            baselineValue: by.optimistic.holdsPerSecond,
            ratio: ratio(by.onsale.holdsPerSecond, by.optimistic.holdsPerSecond),
            chart: `${group.toLowerCase()} vs optimistic`,
          });
        }
        result.notes.push(
          `${group}: ${scene}; the same request sequence (seed ${args.seed}) for every strategy, each on a fresh copy of the seat map.`,
        );
      }
    }

    // ------------------------------------------------------------- Temporal
    if (want('temporal')) {
      progress.step('checkouts through Temporal vs an empty workflow');
      const t = await benchTemporal(temporal, config.DATABASE_URL, workers, settings.temporal, detail);
      result.details.temporal = t;
      fig({
        group: 'Temporal',
        name: 'checkouts/s (reserve, start held, purchase update)',
        value: t.checkout.perSecond,
        unit: 'checkouts/s',
        baseline: 'empty workflow start+result',
        baselineValue: t.empty.perSecond,
        ratio: ratio(t.checkout.perSecond, t.empty.perSecond),
        note: `checkout p50 ${t.checkout.latency.p50} ms p99 ${t.checkout.latency.p99} ms; empty p50 ${t.empty.latency.p50} ms p99 ${t.empty.latency.p99} ms; errors ${t.checkout.outcomes.error ?? 0}`,
        chart: 'checkouts',
      });
      fig({
        group: 'Temporal',
        name: 'billable actions per successful checkout (from histories)',
        value: t.actions.perCheckout,
        unit: 'actions',
        note: 'target ≤ 8',
      });
      fig({
        group: 'Temporal',
        name: `billable actions per ticket (${settings.temporal.seatsPerCheckout} seats per checkout)`,
        value: t.actions.perTicket,
        unit: 'actions',
        note: `${t.actions.perCheckout} per checkout: ${Object.entries(t.actions.byKind)
          .map(([k, n]) => `${k} ${round(n / Math.max(1, t.actions.workflows), 2)}`)
          .join(', ')}`,
      });
      fig({
        group: 'Temporal',
        name: 'Temporal Cloud cost of a 50,000-seat on-sale (happy path)',
        value: t.cost.usd,
        unit: 'USD',
        note: `${t.cost.actions} actions at $${t.cost.usdPerMillionActions}/M (${t.cost.priceSource})`,
      });
      result.latencies['checkout'] = t.checkout.latency;
      result.latencies['empty workflow'] = t.empty.latency;
    }

    // ------------------------------------------------------------ admission
    if (want('admission')) {
      progress.step('admission controller: idle cost, wake-ups, first buyer after quiet');
      const a = await benchAdmission(http, temporal, config, workers.taskQueue, settings.admission, detail);
      result.details.admission = a;
      fig({
        group: 'Admission',
        name: 'billable actions per hour, open event, nobody waiting',
        value: a.idle.actionsPerHour,
        unit: 'actions/h',
        baseline: 'ticking every 2 s (issue 17)',
        baselineValue: TICKING_IDLE_ACTIONS_PER_HOUR,
        ratio: ratio(a.idle.actionsPerHour, TICKING_IDLE_ACTIONS_PER_HOUR),
        note: `${a.idle.actionsPerCycle} actions per ${DEPLOYED_IDLE_SLEEP_SECONDS} s sleep (${Object.entries(a.idle.byKind)
          .map(([k, n]) => `${k} ${round(n / Math.max(1, a.idle.cycles), 2)}`)
          .join(
            ', ',
          )}; ${a.idle.cycles} cycles measured at a ${settings.admission.cycleSeconds} s sleep); an event opened through the API used ${a.idle.deployed.actions} actions in its first ${a.idle.deployed.seconds} s, start-up included; target ≤ 60`,
      });
      fig({
        group: 'Admission',
        name: `wake-up signals per event per second, ${a.storm.joins} joins over ${round(a.storm.spanMs / 1000, 1)} s into a quiet event`,
        value: a.storm.maxSignalsInAnySecond,
        unit: 'signals/s (max in any second)',
        note: `${a.storm.signals} signals in all; ${a.storm.accepted}/${a.storm.joins} joins accepted; target ≤ 1`,
      });
      fig({
        group: 'Admission',
        name: `first buyer after ${settings.admission.quietSeconds} s of quiet: join to admitted, max of ${a.firstBuyer.samples.length}`,
        value: a.firstBuyer.max,
        unit: 'ms',
        note: `samples ${a.firstBuyer.samples.join(', ')} ms (join answered, wake-up signal, load read, admit; watched in Redis every 10 ms); target ≤ 2000`,
      });
      result.latencies['first buyer after quiet'] = a.firstBuyer;
    }

    // ------------------------------------------------------------ simulation
    if (want('simulate')) {
      progress.step('flash-crowd simulation');
      const sim = await simulate(
        { base: api.url, adminToken: config.ADMIN_TOKEN, pool, temporal },
        { ...settings.sim, seed: args.seed },
        detail,
      );
      result.details.simulation = sim;
      const f = sim.fairness;
      fig({
        group: 'Simulation',
        name: `tickets sold (of ${sim.event.seats} seats)`,
        value: sim.ticketsSold,
        unit: 'tickets',
        note: `${sim.actors.humans} humans, ${sim.actors.bots} bots, ${sim.seconds} s; humans ${JSON.stringify(sim.outcomes.human)}; bots ${JSON.stringify(sim.outcomes.bot)}`,
      });
      fig({
        group: 'Simulation',
        name: 'share of tickets to bots',
        value: sim.botShareOfTickets ?? 0,
        unit: 'share',
        note: `bots are ${round(sim.actors.bots / (sim.actors.bots + sim.actors.humans), 3)} of accounts`,
      });
      if (f.arrivalVsPosition)
        fig({
          group: 'Simulation',
          name: 'Kendall tau distance, arrival vs queue position',
          value: round(f.arrivalVsPosition.distance, 4),
          unit: '0 = same order',
          note: `${f.arrivalVsPosition.inversions} inversions of ${f.arrivalVsPosition.comparable} pairs`,
        });
      if (f.arrivalVsPositionAfterOpen)
        fig({
          group: 'Simulation',
          name: 'Kendall tau distance, arrival vs queue position, joined after opening',
          value: round(f.arrivalVsPositionAfterOpen.distance, 4),
          unit: '0 = same order',
          note: `${f.arrivalVsPositionAfterOpen.inversions} inversions of ${f.arrivalVsPositionAfterOpen.comparable} pairs; the pre-queue (joined before opening) is shuffled on purpose`,
        });
      if (f.arrivalVsAdmission)
        fig({
          group: 'Simulation',
          name: 'Kendall tau distance, arrival vs admission seen',
          value: round(f.arrivalVsAdmission.distance, 4),
          unit: '0 = same order',
          note: `${f.arrivalVsAdmission.inversions} inversions of ${f.arrivalVsAdmission.comparable} pairs; admission is seen when the buyer next polls (humans ~1 s, bots ~0.15 s)`,
        });
      fig({
        group: 'Simulation',
        name: 'admission to hold, humans p50',
        value: f.admissionToHoldMs.human.p50,
        unit: 'ms',
        note: `p99 ${f.admissionToHoldMs.human.p99} ms; bots p50 ${f.admissionToHoldMs.bot.p50} ms p99 ${f.admissionToHoldMs.bot.p99} ms`,
      });
      if (sim.actions.perTicket !== null && sim.actions.cost) {
        fig({
          group: 'Simulation',
          name: 'billable Temporal actions per ticket sold (all checkouts, incl. failed and abandoned)',
          value: sim.actions.perTicket,
          unit: 'actions',
          note: `${sim.actions.total} actions over ${sim.actions.workflows} workflows; ${sim.actions.cost.actions} actions ≈ $${sim.actions.cost.usd} per 50,000-seat on-sale at $50/M`,
        });
      }
      if (sim.admission?.perThousandAdmitted != null) {
        fig({
          group: 'Simulation',
          name: 'admission actions per 1,000 admitted buyers',
          value: sim.admission.perThousandAdmitted,
          unit: 'actions',
          note: `${sim.admission.actions} actions over ${sim.admission.runs} run(s) for ${sim.admission.admitted} admissions: ${Object.entries(
            sim.admission.byKind,
          )
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}; target ≤ 100`,
        });
      }
      fig({
        group: 'Simulation',
        name: 'database audit',
        value: sim.audit.ok ? 1 : 0,
        unit: '1 = clean',
        note: JSON.stringify(sim.audit.violations),
      });
      for (const [k, s] of Object.entries(sim.latency))
        if (['join', 'me', 'hold', 'purchase'].includes(k)) result.latencies[`sim ${k}`] = s;
      if (!sim.waitingRoom) result.skipped.push('simulation ran without the waiting room (the API does not serve it yet)');
      result.ok = sim.audit.ok;
    }
    // ------------------------------------------------------------ cost model
    const checkoutPerTicket = result.details.temporal?.actions.perTicket;
    const admission = result.details.admission;
    const perThousand = result.details.simulation?.admission?.perThousandAdmitted;
    if (checkoutPerTicket !== undefined && admission && perThousand != null) {
      const cost = onsaleCostWithAdmission({
        checkoutActionsPerTicket: checkoutPerTicket,
        admissionActionsPerThousandAdmitted: perThousand,
        idleActionsPerHour: admission.idle.actionsPerHour,
        seatsPerBuyer: settings.temporal.seatsPerCheckout,
        openDays: 14,
      });
      fig({
        group: 'Temporal',
        name: 'Temporal Cloud cost of a 50,000-seat on-sale open two weeks, admission included',
        value: cost.usd,
        unit: 'USD',
        note: `${cost.actions.total} actions: checkouts ${cost.actions.checkout}, admitting ${cost.admittedBuyers} buyers ${cost.actions.admission}, idle controller ${cost.actions.idle}`,
      });
    }
  } finally {
    progress.step('report');
    http.close();
    await Promise.allSettled([api.stop(), temporal.connection.close(), pool.end()]);
    await workers.stop();
  }
  result.seconds = round((Date.now() - started) / 1000, 1);
  result.notes.push(
    `Machine load (1/5/15 min): ${result.machine.loadAverageAtStart.join(' / ')} at start, ${os
      .loadavg()
      .map((l) => round(l, 2))
      .join(' / ')} at end; other work shares these cores, so read the ratios.`,
  );
  progress.finish();
  return result;
}

export async function writeOutputs(result: BenchResult, args: BenchArgs): Promise<{ dir: string; files: string[] }> {
  const dir = args.out ?? path.join(ROOT, '.state', 'bench', result.startedAt.replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const json = JSON.stringify(result, null, 2);
  for (const file of [path.join(dir, 'bench.json'), ...(args.json ? [path.resolve(args.json)] : [])]) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, json);
    files.push(file);
  }
  const html = renderHtml(result);
  writeFileSync(path.join(dir, 'report.html'), html);
  files.push(path.join(dir, 'report.html'));
  writeFileSync(path.join(dir, 'table.md'), renderTable(result, true) + '\n');
  files.push(path.join(dir, 'table.md'));
  if (args.png) {
    const png = path.join(dir, 'headline.png');
    const why = await renderPng(html, '#headline', png).catch((err: unknown) => String(err));
    if (why) result.notes.push(`PNG not rendered: ${why}`);
    else files.push(png);
  }
  return { dir, files };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const result = await runBench(args);
  const { files } = await writeOutputs(result, args);
  process.stdout.write(
    `\nonsale benchmark, ${result.mode} mode, ${result.seconds} s, ${result.machine.cpus} cores, ${result.machine.memoryGiB} GiB\n\n`,
  );
  process.stdout.write(renderTable(result) + '\n\n');
  for (const s of result.skipped) process.stdout.write(`skipped: ${s}\n`);
  for (const f of files) process.stdout.write(`wrote ${path.relative(process.cwd(), f)}\n`);
  if (!result.ok) {
    process.stdout.write(`\nthe database audit found violations: ${JSON.stringify(result.details.simulation?.audit.violations)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      process.stderr.write(`\nbench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
