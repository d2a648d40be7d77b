/**
 * The fault scenarios. Each runs its own worker and API processes on their
 * own task queue and port, drives a burst of checkouts, injects one fault
 * while they are in flight, lifts it, and reports what was in flight, how
 * each buyer's checkout ended, how long recovery took, and the audit.
 *
 * `sharedServices` marks the scenarios that stop a backing service every
 * test on the machine uses (Temporal, Postgres, Redis): run those from
 * `./onsale faults`, not in a shared CI run.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { auditEvents, providerChargesMatch, type ScopedAudit } from './audit';
import { type ApiTarget, createFaultEvent, hold, type Journey, newBuyers, ordersVisible, purchase, summarize } from './burst';
import { FaultProxy } from './proxy';
import { AppProcess, freePort, ROOT, sleep, waitFor } from '../../harness/processes';
import { stack } from './stack';

export interface ScenarioOptions {
  /** Shorter outages and fewer buyers, for CI. */
  short: boolean;
  log: (line: string) => void;
}

export interface ScenarioReport {
  name: string;
  fault: string;
  buyers: number;
  inFlight: Record<string, number>;
  outcomes: ReturnType<typeof summarize>;
  /** How long the injected fault lasted (service down, provider failing). */
  faultMs: number;
  /** From the fault's end until every buyer had a final answer. */
  recoveryMs: number;
  /** From the fault's end until the audit was clean (workflows settled). */
  auditCleanMs: number;
  retries: number;
  audit: ScopedAudit;
  provider: { ok: boolean; providerCharges: number; databaseCharges: number; sameKeyRetries: number };
  ordersVisible: number;
  notes: string[];
  ok: boolean;
}

export interface Scenario {
  name: string;
  description: string;
  sharedServices: boolean;
  run(opts: ScenarioOptions): Promise<ScenarioReport>;
}

/** Each scenario's process output, kept apart from other runs' for the report. */
const LOG_DIR = path.join(ROOT, '.state/logs/faults');

/** The processes and connections of one scenario run. */
class Harness {
  readonly proxy: FaultProxy;
  readonly taskQueue: string;
  worker!: AppProcess;
  api!: AppProcess;
  apiPort = 0;
  pool: Pool;
  eventIds: string[] = [];
  readonly target: ApiTarget;

  constructor(readonly name: string) {
    const upstream = process.env.STRIPE_API_URL;
    if (!upstream || !process.env.ADMIN_TOKEN || !process.env.DATABASE_URL) {
      throw new Error('the stack settings are missing: set -a; source .state/stack.env; set +a');
    }
    this.proxy = new FaultProxy(upstream);
    this.taskQueue = `faults-${name}-${randomUUID().slice(0, 8)}`;
    this.pool = createPool(process.env.DATABASE_URL, { max: 4 });
    this.target = { url: () => `http://127.0.0.1:${this.apiPort}`, adminToken: process.env.ADMIN_TOKEN };
  }

  async start(): Promise<void> {
    const proxyUrl = await this.proxy.start();
    this.apiPort = await freePort();
    const common = { TEMPORAL_TASK_QUEUE: this.taskQueue, LOG_LEVEL: 'info', STRIPE_API_URL: proxyUrl };
    this.worker = new AppProcess(`${this.name}-worker`, 'workers/main.ts', { ...common, DATABASE_POOL_SIZE: '10' }, LOG_DIR);
    this.api = new AppProcess(
      `${this.name}-api`,
      'api/server.ts',
      { ...common, API_HOST: '127.0.0.1', API_PORT: String(this.apiPort), DATABASE_POOL_SIZE: '10' },
      LOG_DIR,
    );
    await Promise.all([this.worker.start(), this.api.start()]);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.api?.terminate(15_000), this.worker?.terminate(30_000)]);
    await this.proxy.stop();
    await this.pool.end();
  }

  async event(seats: number, holdSeconds = 180): Promise<string> {
    const id = await createFaultEvent(this.target, seats, holdSeconds);
    this.eventIds.push(id);
    return id;
  }
}

/** Every 5th buyer pays with a declined card: declines must release seats, not charge. */
const cardFor = (i: number) => (i % 5 === 4 ? 'pm_card_chargeDeclined' : 'pm_card_visa');

async function holdAll(h: Harness, eventId: string, journeys: Journey[], deadline: number): Promise<void> {
  await Promise.all(journeys.map((j) => hold(j, h.target, eventId, deadline)));
}

function startPurchases(h: Harness, eventId: string, journeys: Journey[], deadline: number): Promise<void> {
  return Promise.all(journeys.filter((j) => j.holdId).map((j, i) => purchase(j, h.target, eventId, deadline, cardFor(i)))).then(
    () => undefined,
  );
}

/** Waits for the workflows to settle (a clean scoped audit), then reports. */
async function finish(
  h: Harness,
  opts: ScenarioOptions,
  base: {
    name: string;
    fault: string;
    journeys: Journey[];
    inFlight: Record<string, number>;
    faultMs: number;
    liftedAt: number;
    notes?: string[];
  },
): Promise<ScenarioReport> {
  const lastAnswer = Math.max(...base.journeys.map((j) => j.finishedAt ?? Date.now()));
  const recoveryMs = Math.max(0, lastAnswer - base.liftedAt);
  let audit = await auditEvents(h.pool, h.eventIds);
  await waitFor('a clean audit', async () => (audit = await auditEvents(h.pool, h.eventIds)).ok, 120_000, 500).catch(() => undefined);
  const auditCleanMs = Date.now() - base.liftedAt;
  const match = await providerChargesMatch(h.pool, h.eventIds, h.proxy.chargedKeys());
  const outcomes = summarize(base.journeys);
  const visible = await ordersVisible(h.target, base.journeys);
  const everyoneAnswered = outcomes.unfinished === 0 && outcomes.gave_up === 0;
  const report: ScenarioReport = {
    name: base.name,
    fault: base.fault,
    buyers: base.journeys.length,
    inFlight: base.inFlight,
    outcomes,
    faultMs: base.faultMs,
    recoveryMs,
    auditCleanMs,
    retries: base.journeys.reduce((n, j) => n + j.retries, 0),
    audit,
    provider: { ...match, sameKeyRetries: h.proxy.sameKeyRetries() },
    ordersVisible: visible,
    notes: base.notes ?? [],
    ok: audit.ok && match.ok && everyoneAnswered && visible === outcomes.confirmed && audit.totals.orders === outcomes.confirmed,
  };
  opts.log(`${base.name}: ${report.ok ? 'ok' : 'FAILED'}`);
  return report;
}

async function withHarness(name: string, fn: (h: Harness) => Promise<ScenarioReport>): Promise<ScenarioReport> {
  const h = new Harness(name);
  try {
    await h.start();
    return await fn(h);
  } finally {
    await h.stop();
  }
}

const workerKill: Scenario = {
  name: 'worker-kill9',
  description: 'kill -9 the worker while payments are at the provider, then start a new one',
  sharedServices: false,
  run: (opts) =>
    withHarness('worker-kill9', async (h) => {
      const buyers = opts.short ? 8 : 24;
      const eventId = await h.event(buyers * 2 + 10);
      const journeys = await newBuyers(h.target, buyers);
      const deadline = Date.now() + 240_000;
      await holdAll(h, eventId, journeys, deadline);
      h.proxy.delayMs = 2500; // payments stay at the provider long enough to be cut off
      const purchases = startPurchases(h, eventId, journeys, deadline);
      await waitFor('payments in flight', () => h.proxy.inFlight >= Math.min(3, buyers), 60_000, 20);
      const inFlight = {
        paymentsAtProvider: h.proxy.inFlight,
        purchaseRequestsOpen: journeys.filter((j) => j.inFlightSince && !j.finishedAt).length,
      };
      opts.log(`worker-kill9: kill -9 worker (pid ${h.worker.pid}) with ${inFlight.paymentsAtProvider} payments at the provider`);
      const killedAt = Date.now();
      await h.worker.kill9();
      h.proxy.delayMs = 0;
      await sleep(opts.short ? 1000 : 5000);
      await h.worker.start();
      const liftedAt = Date.now();
      await purchases;
      return finish(h, opts, {
        name: 'worker-kill9',
        fault: 'worker killed with SIGKILL, restarted',
        journeys,
        inFlight,
        faultMs: liftedAt - killedAt,
        liftedAt,
        notes: [
          'activities cut off by the kill are retried once their 30 s start-to-close timeout lapses; the charge reuses its idempotency key',
        ],
      });
    }),
};

const paymentFaults: Scenario = {
  name: 'payment-provider',
  description: 'the payment provider fails, drops answers after charging, and times out; retries reuse idempotency keys',
  sharedServices: false,
  run: (opts) =>
    withHarness('payment-provider', async (h) => {
      const buyers = opts.short ? 8 : 24;
      const eventId = await h.event(buyers * 2 + 10);
      const journeys = await newBuyers(h.target, buyers);
      const deadline = Date.now() + 300_000;
      await holdAll(h, eventId, journeys, deadline);
      const startedAt = Date.now();
      let faultMs: number;
      if (opts.short) {
        // Each charge: a 500, then charged with the answer lost, then a hang past the SDK's 20 s timeout, then through.
        h.proxy.perChargeScript = ['fail', 'lose', 'hang'];
        await startPurchases(h, eventId, journeys, deadline);
        faultMs = Math.max(...journeys.map((j) => j.finishedAt ?? startedAt)) - startedAt;
      } else {
        h.proxy.mode = 'hang';
        const purchases = startPurchases(h, eventId, journeys, deadline);
        await sleep(30_000);
        h.proxy.mode = 'lose';
        await sleep(10_000);
        h.proxy.mode = 'fail';
        await sleep(20_000);
        h.proxy.mode = 'pass';
        faultMs = Date.now() - startedAt;
        await purchases;
      }
      const liftedAt = opts.short ? startedAt : startedAt + faultMs;
      const lost = h.proxy.charges.filter((c) => c.mode === 'lose' && c.upstreamStatus === 200).length;
      return finish(h, opts, {
        name: 'payment-provider',
        fault: opts.short
          ? 'each charge: 500, answer lost after charging, 20 s timeout, then success'
          : 'provider hangs 30 s, loses answers 10 s, fails 20 s',
        journeys,
        inFlight: { chargeRequests: h.proxy.charges.length, chargedButAnswerLost: lost },
        faultMs,
        liftedAt,
        notes: [
          `${lost} charges went through with their answer lost; each retry carried the same idempotency key, so the provider (Stripe) would replay the first charge instead of charging again`,
          ...(opts.short ? ['recovery is measured from the first purchase: the fault follows each charge'] : []),
        ],
      });
    }),
};

/** Reads an SSE stream, reconnecting with Last-Event-ID, until stopped. */
function followStream(url: () => string, path: string) {
  const stats = { events: 0, reconnects: 0, lastId: '' as string, available: true };
  const ctrl = new AbortController();
  const loop = (async () => {
    while (!ctrl.signal.aborted) {
      try {
        const res = await fetch(url() + path, {
          headers: stats.lastId ? { 'last-event-id': stats.lastId, accept: 'text/event-stream' } : { accept: 'text/event-stream' },
          signal: ctrl.signal,
        });
        if (res.status === 404) {
          stats.available = false;
          return;
        }
        const decoder = new TextDecoder();
        let buf = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const id = /^id: ?(.*)$/m.exec(block)?.[1];
            if (id) stats.lastId = id;
            if (/^data:/m.test(block)) stats.events++;
          }
        }
      } catch {
        // connection refused or reset: reconnect
      }
      if (ctrl.signal.aborted) break;
      stats.reconnects++;
      await sleep(300);
    }
  })();
  return { stats, stop: async () => (ctrl.abort(), await loop) };
}

const apiRestart: Scenario = {
  name: 'api-restart',
  description: 'restart the API process (SIGTERM, a deploy) with seat streams and purchases open',
  sharedServices: false,
  run: (opts) =>
    withHarness('api-restart', async (h) => {
      const buyers = opts.short ? 8 : 24;
      const eventId = await h.event(buyers * 2 + 10);
      const journeys = await newBuyers(h.target, buyers);
      const deadline = Date.now() + 240_000;
      const streams = Array.from({ length: opts.short ? 3 : 10 }, () => followStream(h.target.url, `/v1/events/${eventId}/seats/stream`));
      await holdAll(h, eventId, journeys, deadline);
      h.proxy.delayMs = 1500;
      const purchases = startPurchases(h, eventId, journeys, deadline);
      await waitFor('payments in flight', () => h.proxy.inFlight >= 2, 60_000, 20);
      const inFlight = {
        purchaseRequestsOpen: journeys.filter((j) => j.inFlightSince && !j.finishedAt).length,
        streamsOpen: streams.filter((s) => s.stats.available).length,
      };
      const stoppedAt = Date.now();
      opts.log(`api-restart: SIGTERM to the API with ${inFlight.purchaseRequestsOpen} purchases and ${inFlight.streamsOpen} streams open`);
      await h.api.terminate(20_000);
      const drainMs = Date.now() - stoppedAt;
      h.proxy.delayMs = 0;
      await h.api.start();
      const liftedAt = Date.now();
      await purchases;
      await sleep(1500); // the streams reconnect and catch up
      const answeredByOld = journeys.filter((j) => j.finishedAt && j.finishedAt <= stoppedAt + drainMs && j.retries === 0).length;
      await Promise.all(streams.map((s) => s.stop()));
      const streamEvents = streams.reduce((n, s) => n + s.stats.events, 0);
      const reconnects = streams.reduce((n, s) => n + s.stats.reconnects, 0);
      return finish(h, opts, {
        name: 'api-restart',
        fault: 'API stopped with SIGTERM and started again',
        journeys,
        inFlight,
        faultMs: liftedAt - stoppedAt,
        liftedAt,
        notes: [
          `the old process drained for ${drainMs} ms and answered ${answeredByOld} purchases before exiting; the rest retried against the new process and got the same order`,
          streams[0]!.stats.available
            ? `seat streams: ${reconnects} reconnects with Last-Event-ID, ${streamEvents} events received`
            : 'seat streams: no stream endpoint on this build',
        ],
      });
    }),
};

/** A backing service stops while checkouts are in flight, then comes back. */
function serviceOutage(
  name: string,
  service: 'temporal' | 'postgres' | 'redis',
  description: string,
  outage: (opts: ScenarioOptions) => Promise<void>,
  notes: string[],
  after?: (h: Harness, eventId: string) => Promise<string[]>,
): Scenario {
  return {
    name,
    description,
    sharedServices: true,
    run: (opts) =>
      withHarness(name, async (h) => {
        const buyers = opts.short ? 8 : 24;
        const eventId = await h.event(buyers * 2 + 10);
        const journeys = await newBuyers(h.target, buyers);
        const deadline = Date.now() + 300_000;
        // Half hold before the outage and pay during it; the other half try to hold during it.
        const early = journeys.slice(0, buyers / 2);
        const late = journeys.slice(buyers / 2);
        await holdAll(h, eventId, early, deadline);
        h.proxy.delayMs = 1500;
        const purchases = startPurchases(h, eventId, early, deadline);
        await waitFor('payments in flight', () => h.proxy.inFlight >= 1, 60_000, 20);
        const inFlight = {
          purchaseRequestsOpen: early.filter((j) => j.inFlightSince && !j.finishedAt).length,
          paymentsAtProvider: h.proxy.inFlight,
          holdsStartedDuringOutage: late.length,
        };
        const downAt = Date.now();
        opts.log(`${name}: ${service} going down with ${inFlight.purchaseRequestsOpen} purchases open`);
        const lateDone = (async () => {
          await sleep(300);
          await holdAll(h, eventId, late, deadline);
          await startPurchases(h, eventId, late, deadline);
        })();
        try {
          await outage(opts);
        } finally {
          // Whatever happened, the shared service comes back.
          await stack('up', service);
        }
        h.proxy.delayMs = 0;
        const liftedAt = Date.now();
        opts.log(`${name}: ${service} back after ${liftedAt - downAt} ms`);
        await Promise.all([purchases, lateDone]);
        const extra = after ? await after(h, eventId) : [];
        return finish(h, opts, {
          name,
          fault: description,
          journeys,
          inFlight,
          faultMs: liftedAt - downAt,
          liftedAt,
          notes: [...notes, ...extra],
        });
      }),
  };
}

const temporalStop = serviceOutage(
  'temporal-stop',
  'temporal',
  'Temporal dev server stopped, then restarted from its SQLite file',
  async (opts) => {
    await stack('stop', 'temporal');
    await sleep(opts.short ? 10_000 : 30_000);
    await stack('start', 'temporal');
  },
  ['holds and purchases answer 503 UNAVAILABLE with Retry-After while Temporal is down; workflows resume from the file-backed history'],
);

const postgresRestart = serviceOutage(
  'postgres-restart',
  'postgres',
  'Postgres restarted (fast shutdown: every connection is cut)',
  async () => {
    await stack('restart', 'postgres');
  },
  ['pooled connections die with the server; activities retry on fresh ones, and each write is keyed so a retry cannot act twice'],
);

const redisFlush = serviceOutage(
  'redis-flush-restart',
  'redis',
  'Redis flushed (FLUSHALL) and restarted empty',
  async () => {
    const { execFileSync } = await import('node:child_process');
    const url = new URL(process.env.REDIS_URL!);
    execFileSync('redis-cli', ['-h', url.hostname, '-p', url.port, 'FLUSHALL']);
    await stack('restart', 'redis');
  },
  [
    'lost with Redis, by design: waiting-room queue places (buyers re-join), rate-limit buckets, the record of used admission tokens, the SSE fan-out; seats, holds, orders and payments live in Postgres',
  ],
  async (h, eventId) => {
    // The seat map is rebuilt from Postgres on the next read and agrees with it.
    const res = await fetch(`${h.target.url()}/v1/events/${eventId}`);
    const body = (await res.json()) as { counts: { available: number; held: number; sold: number } };
    const { rows } = await h.pool.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM seats WHERE event_id = $1 GROUP BY status',
      [eventId],
    );
    const db = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    const same = ['available', 'held', 'sold'].every((s) => (db[s] ?? 0) === body.counts[s as 'sold']);
    return [
      `seat counts after the flush: API ${JSON.stringify(body.counts)}, Postgres ${JSON.stringify(db)}${same ? ' (rebuilt, equal)' : ' (DIFFERENT)'}`,
    ];
  },
);

export const SCENARIOS: Scenario[] = [workerKill, paymentFaults, apiRestart, temporalStop, postgresRestart, redisFlush];
