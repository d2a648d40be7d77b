/**
 * The contention path through HTTP: hold attempts at 10:1 contention against
 * the same server's bare endpoint, alternating slice by slice on the same
 * request sequence; the CPU a losing attempt costs, summed over every process
 * on the path (read from /proc); and how soon after a hold's window ends its
 * seats are back on sale (real clock).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import type { Config } from '../../platform/config';
import type { HttpClient } from '../lib/http';
import { type LoadResult, runLoad, runOpenLoop } from '../lib/load';
import { rng, round, summarize, type LatencySummary } from '../lib/stats';
import { mintBuyers } from './http';

export interface ContentionOptions {
  seats: { rows: number; seatsPerRow: number };
  /** Buyers per seat. */
  contention: number;
  concurrency: number;
  /** Slices the run alternates between hold attempts and GET /healthz. */
  slices: number;
  /** Attempts of the all-losing phase that measures CPU per losing attempt. */
  losingAttempts: number;
  /** Holds whose expiry is timed (each waits out a 30 s window). */
  expiringHolds: number;
  /** Losing attempts sent open-loop at half the losing capacity the closed loop measured. */
  openLoopAttempts: number;
}

const TICKS = 100; // USER_HZ on Linux

/**
 * CPU time (ms) of each process group on the path, from /proc/<pid>/stat (utime + stime).
 * Postgres is counted per backend: with `pgBackends`, only the backends serving the benchmark's
 * database, so other databases' work on a shared server (tests, other runs) is left out.
 */
function cpuByProcess(groups: { api: number; worker?: number }, pgBackends?: Set<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    const ms = ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
    const pid = Number(entry);
    let tier: string | null = null;
    if (pgrp === groups.api) tier = 'api';
    else if (groups.worker !== undefined && pgrp === groups.worker) tier = 'worker';
    else if (pid === process.pid) tier = 'bench process (load generator)';
    else if (comm === 'postgres' || comm.startsWith('postgres')) tier = !pgBackends || pgBackends.has(pid) ? 'postgres' : null;
    else if (comm.startsWith('redis-server')) tier = 'redis';
    else if (comm === 'temporal') tier = 'temporal server';
    if (tier) out[tier] = (out[tier] ?? 0) + ms;
  }
  return out;
}

/**
 * Waits until the Temporal server and the workers use under 2% of a core for
 * two seconds running (at most 60 s); answers how long that took.
 */
async function untilQuiet(pids: { api: number; worker?: number }): Promise<number> {
  const started = Date.now();
  const busy = (c: Record<string, number>) => (c['temporal server'] ?? 0) + (c.worker ?? 0);
  let last = busy(cpuByProcess(pids));
  let quiet = 0;
  while (Date.now() - started < 60_000 && quiet < 2) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = busy(cpuByProcess(pids));
    quiet = now - last < 20 ? quiet + 1 : 0;
    last = now;
  }
  return Date.now() - started;
}

/** The backends connected to the benchmark's database, now and at the snapshot before (so none is missed). */
async function backendsOf(pool: Pool, also: Set<number> = new Set()): Promise<Set<number>> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  return new Set([...also, ...rows.map((r) => r.pid)]);
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
}

export interface ContentionFigures {
  holds: LoadResult;
  healthz: LoadResult;
  outcomes: Record<string, number>;
  granted: number;
  losingCpuMsPerAttempt: Record<string, number>;
  losingCpuMsPerAttemptPathTotal: number;
  healthzApiCpuMsPerRequest: number;
  /** GET /healthz/s, closed loop, run right after the losing phase with as many requests. */
  healthzAfterLosing: number;
  losing: LoadResult;
  /** Losing attempts on a fixed schedule at half the closed loop's losing rate: latency at a known load. */
  openLoopLosing: LoadResult & { dropped: number; offeredPerSecond: number };
  /** The mixed run's attempts by outcome, worst slice: a winner waits for Temporal, a loser for Redis. */
  heldLatency?: LatencySummary;
  rejectedLatency?: LatencySummary;
  expiry: { holds: number; lateMs: LatencySummary };
  /** How long Temporal and the workers took to finish the winners' checkouts' first tasks after the mixed run. */
  settleMs: number;
}

function merge(parts: LoadResult[]): LoadResult {
  const outcomes: Record<string, number> = {};
  let seconds = 0;
  const lat: number[] = [];
  for (const p of parts) {
    seconds += p.seconds;
    for (const [k, n] of Object.entries(p.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
  }
  // Latency percentiles of the merged slices: the worst slice's p99 is a safe upper bound; report each slice's too.
  for (const p of parts) lat.push(p.latency.p99);
  const rates = Object.fromEntries(Object.entries(outcomes).map(([k, n]) => [k, Math.round((n / seconds) * 10) / 10]));
  const latency = { ...parts[0]!.latency, p50: Math.max(...parts.map((p) => p.latency.p50)), p99: Math.max(...lat) };
  return { outcomes, seconds, rates, latency, latencyByOutcome: parts[0]!.latencyByOutcome, timeline: {} };
}

/** The slice whose attempts of this outcome had the worst p99. */
function worstOf(parts: LoadResult[], outcome: string): LatencySummary | undefined {
  return parts
    .map((p) => p.latencyByOutcome[outcome])
    .reduce<LatencySummary | undefined>((a, b) => (!a ? b : b && b.p99 > a.p99 ? b : a), undefined);
}

export async function benchContention(
  http: HttpClient,
  config: Config,
  pool: Pool,
  pids: { api: number; worker?: number },
  o: ContentionOptions,
  seed: number,
  onProgress: (t: string) => void = () => undefined,
): Promise<ContentionFigures> {
  const { rows, seatsPerRow } = o.seats;
  const seatCount = rows * seatsPerRow;
  const created = await http.json('POST', '/v1/admin/events', {
    token: config.ADMIN_TOKEN,
    body: {
      name: 'bench contention',
      holdSeconds: 300,
      maxSeatsPerBuyer: 4,
      waitingRoom: { enabled: false },
      sections: [{ id: 'A', name: 'Floor', rows, seatsPerRow, priceCents: 9900 }],
    },
  });
  const eventId: string = created.body.eventId;
  await http.json('POST', `/v1/admin/events/${eventId}/open`, { token: config.ADMIN_TOKEN });
  onProgress('minting buyers');
  const attempts = seatCount * o.contention;
  const buyers = await mintBuyers(config, attempts + o.losingAttempts + o.openLoopAttempts, 'ct');
  // The request sequence: every seat wanted by `contention` buyers, in a shuffled order; half name one
  // seat, half ask for the best one available.
  const random = rng(seed);
  const order = Array.from({ length: attempts }, (_, i) => i).sort(() => random() - 0.5);
  const bodies = order.map((i) => {
    const seat = i % seatCount;
    return random() < 0.5 ? { seatIds: [`A-${1 + Math.floor(seat / seatsPerRow)}-${1 + (seat % seatsPerRow)}`] } : { quantity: 1 };
  });
  const per = Math.ceil(attempts / o.slices);
  const holdSlices: LoadResult[] = [];
  const healthSlices: LoadResult[] = [];
  const outcomes: Record<string, number> = {};
  for (let s = 0; s < o.slices; s++) {
    const from = s * per;
    const to = Math.min(attempts, from + per);
    onProgress(`hold attempts slice ${s + 1}/${o.slices}`);
    holdSlices.push(
      await runLoad({
        concurrency: o.concurrency,
        durationMs: 120_000,
        maxOps: to - from,
        op: async (_l, seq) => {
          const i = from + seq;
          const r = await http.request('POST', `/v1/events/${eventId}/hold`, { token: buyers[i]!.token, body: bodies[i] });
          const label = r.status === 201 ? 'held' : r.status === 409 ? 'rejected' : `http${r.status}`;
          outcomes[label] = (outcomes[label] ?? 0) + 1;
          return label === 'held' || label === 'rejected' ? label : 'error';
        },
      }),
    );
    onProgress(`GET /healthz slice ${s + 1}/${o.slices}`);
    // As long as the hold slice took, not as many requests: a few hundred bare requests finish in tens of
    // milliseconds, mostly the connections' ramp-up, and would understate the baseline several times over.
    const holdMs = holdSlices[holdSlices.length - 1]!.seconds * 1000;
    healthSlices.push(
      await runLoad({
        concurrency: o.concurrency,
        durationMs: Math.max(250, holdMs),
        op: async () => ((await http.request('GET', '/healthz')).status === 200 ? 'ok' : 'error'),
      }),
    );
  }

  // The winners' checkouts run their first workflow task after the buyer has the answer (the start is what the
  // buyer waits for): let Temporal and the workers finish that before the losing phase, whose CPU is its own.
  onProgress('waiting for the checkouts to settle');
  const settleMs = await untilQuiet(pids);
  // Every seat is taken now: each further attempt loses. CPU per losing attempt, summed over the processes.
  onProgress('losing attempts (CPU)');
  const backends0 = await backendsOf(pool);
  const cpu0 = cpuByProcess(pids, backends0);
  const losing = await runLoad({
    concurrency: o.concurrency,
    durationMs: 120_000,
    maxOps: o.losingAttempts,
    op: async (_l, seq) => {
      const r = await http.request('POST', `/v1/events/${eventId}/hold`, {
        token: buyers[attempts + seq]!.token,
        body: seq % 2 ? { quantity: 1 } : { seatIds: [`A-1-${1 + (seq % seatsPerRow)}`] },
      });
      return r.status === 409 ? 'rejected' : r.status === 201 ? 'held' : 'error';
    },
  });
  // Backends that appeared meanwhile count from zero: their whole CPU time is this phase's.
  const backends1 = await backendsOf(pool, backends0);
  const cpu1 = cpuByProcess(pids, backends1);
  const losingCpu = diff(cpu1, cpu0);
  const n = Math.max(1, losing.outcomes.rejected ?? 0);
  const perAttempt = Object.fromEntries(Object.entries(losingCpu).map(([k, ms]) => [k, Math.round((ms / n) * 1000) / 1000]));
  const pathTotal = Object.entries(perAttempt)
    .filter(([k]) => !k.startsWith('bench'))
    .reduce((a, [, v]) => a + v, 0);
  // Open loop: the same losing attempts on a fixed schedule at half the rate the closed loop reached.
  onProgress('losing attempts, open loop at half capacity');
  const losingRate = Math.max(10, Math.round((losing.outcomes.rejected ?? 0) / Math.max(0.001, losing.seconds) / 2));
  const openLoopLosing = await runOpenLoop({
    ratePerSecond: losingRate,
    ops: o.openLoopAttempts,
    maxInFlight: 1000,
    op: async (seq) => {
      const r = await http.request('POST', `/v1/events/${eventId}/hold`, {
        token: buyers[attempts + o.losingAttempts + seq]!.token,
        body: seq % 2 ? { quantity: 1 } : { seatIds: [`A-2-${1 + (seq % seatsPerRow)}`] },
      });
      return r.status === 409 ? 'rejected' : r.status === 201 ? 'held' : 'error';
    },
  });
  const h0 = cpuByProcess(pids);
  const hz = await runLoad({
    concurrency: o.concurrency,
    durationMs: 120_000,
    maxOps: o.losingAttempts,
    op: async () => ((await http.request('GET', '/healthz')).status === 200 ? 'ok' : 'error'),
  });
  const h1 = cpuByProcess(pids);
  const healthzApi = ((h1.api ?? 0) - (h0.api ?? 0)) / Math.max(1, hz.outcomes.ok ?? 0);
  const healthzAfterLosing = round((hz.outcomes.ok ?? 0) / Math.max(0.001, hz.seconds), 1);
  await http.json('POST', `/v1/admin/events/${eventId}/close`, { token: config.ADMIN_TOKEN }).catch(() => undefined);

  // Seats back on sale after the window (real clock): holds with a 30 s window, left to expire.
  onProgress(`${o.expiringHolds} holds left to expire (30 s window)`);
  const shortEvent = await http.json('POST', '/v1/admin/events', {
    token: config.ADMIN_TOKEN,
    body: {
      name: 'bench expiry',
      holdSeconds: 30,
      maxSeatsPerBuyer: 4,
      waitingRoom: { enabled: false },
      sections: [{ id: 'A', name: 'Floor', rows: Math.ceil(o.expiringHolds / 10), seatsPerRow: 10, priceCents: 100 }],
    },
  });
  const shortId: string = shortEvent.body.eventId;
  await http.json('POST', `/v1/admin/events/${shortId}/open`, { token: config.ADMIN_TOKEN });
  const expiring = await mintBuyers(config, o.expiringHolds, 'ex');
  await Promise.all(expiring.map((b) => http.request('POST', `/v1/events/${shortId}/hold`, { token: b.token, body: { quantity: 1 } })));
  const deadline = Date.now() + 90_000;
  for (;;) {
    const { rows: open } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM holds WHERE event_id = $1 AND status = 'active'`,
      [shortId],
    );
    if (open[0]!.n === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const { rows: ended } = await pool.query<{ late_ms: number }>(
    `SELECT (extract(epoch FROM (coalesce(ended_at, now()) - (expires_at - make_interval(secs => $2)))) * 1000)::float8 AS late_ms
       FROM holds WHERE event_id = $1`,
    [shortId, config.HOLD_PAYMENT_GRACE_SECONDS],
  );
  await http.json('POST', `/v1/admin/events/${shortId}/close`, { token: config.ADMIN_TOKEN }).catch(() => undefined);

  return {
    holds: merge(holdSlices),
    healthz: merge(healthSlices),
    outcomes,
    granted: outcomes.held ?? 0,
    losingCpuMsPerAttempt: perAttempt,
    losingCpuMsPerAttemptPathTotal: Math.round(pathTotal * 1000) / 1000,
    healthzApiCpuMsPerRequest: Math.round(healthzApi * 1000) / 1000,
    healthzAfterLosing,
    losing,
    openLoopLosing,
    heldLatency: worstOf(holdSlices, 'held'),
    rejectedLatency: worstOf(holdSlices, 'rejected'),
    expiry: { holds: ended.length, lateMs: summarize(ended.map((r) => r.late_ms)) },
    settleMs,
  };
}
