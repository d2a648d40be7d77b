/**
 * Temporal servers of this machine side by side: the CLI dev server (7233)
 * and the real server of scripts/cluster.sh (7333). For each server a worker
 * process (bench/temporal-worker.ts: the real worker with the real activities,
 * and the empty-workflow worker) serves its own task queues; this process only
 * drives the load. Two kinds of operation, in windows alternating across
 * servers and kinds (ABBA order), so the machine's background load falls on
 * all alike:
 *
 *   empty     start the empty workflow and wait for its result (Temporal's floor);
 *   checkout  the production checkout as the API runs it: Postgres takes the
 *             seats, the checkout starts already held, then the purchase
 *             update (bench/suites/temporal.ts).
 *
 * Per window: rate, latency, and CPU per operation of the server (from /proc,
 * when its pid file is given), of the Postgres backends serving it, of the
 * worker process and of the Postgres backends serving the worker's
 * activities. Several levels of operations in flight (--concurrency 16,64)
 * alternate too: on a saturated machine the ratio depends on how far past
 * saturation the load goes. Results: bench/results/temporal-servers.{json,md,svg,png}.
 *
 *   tsx bench/temporal-servers.ts dev=127.0.0.1:7233@.state/run/temporal.pid \
 *     cluster=127.0.0.1:7333@.state/run/cluster-temporal.pid \
 *     [--kinds empty,checkout] [--concurrency 16,64] [--seconds 20] [--rounds 2] \
 *     [--settle 2] [--note "4 history shards"] [--out bench/results] \
 *     [--watch stripe-mock@.state/run/stripe-mock.pid] [--tuning name='{"maxConcurrentWorkflowTaskExecutions":10}']
 *
 * Two names may point at one server, e.g. with --tuning on one of them, to
 * measure a worker setting beside the production one in the same run.
 * `tsx bench/temporal-servers.ts --report bench/results/temporal-servers.json`
 * draws a run's table and charts again from its JSON.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../db/pool';
import { AppProcess, sleep } from '../harness/processes';
import { backendsDeltaMs, cpuByProcessGroup, postgresBackendsCpu } from './lib/cpu';
import { type LoadResult, mergeLoads, runLoad } from './lib/load';
import { round } from './lib/stats';
import { renderPng } from './report/png';
import { barChart } from './report/svg';
import { emptyWorkflow, type PreparedCheckouts, prepareCheckouts, runCheckout } from './suites/temporal';

type Kind = 'empty' | 'checkout';
const KINDS: Kind[] = ['empty', 'checkout'];

interface Target {
  name: string;
  address: string;
  pid?: number;
  /** Overrides of the production worker's tuning for this target's worker (BENCH_WORKER_TUNING). */
  tuning?: string;
}

interface Options {
  kinds: Kind[];
  /** Operations in flight, one level per window; several levels alternate. */
  concurrency: number[];
  seconds: number;
  rounds: number;
  settle: number;
  seatsPerCheckout: number;
  note: string;
  out: string;
  /** Other processes of the stack the operations use (stripe-mock, Redis), measured per window like the server. */
  watch: { name: string; pid: number }[];
}

/** CPU milliseconds per operation, by where it was spent. */
interface CpuPerOp {
  server: number;
  serverPostgres: number;
  worker: number;
  workerPostgres: number;
  loadGenerator: number;
  /** Each watched process, by name. */
  watched: Record<string, number>;
}

interface Window {
  round: number;
  server: string;
  kind: Kind;
  concurrency: number;
  ops: number;
  errors: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  cpuMsPerOp: CpuPerOp | null;
  loadavg: string;
}

function parseArgs(argv: string[]): { targets: Target[]; opts: Options } {
  const targets: Target[] = [];
  const tunings = new Map<string, string>();
  const opts: Options = {
    kinds: KINDS,
    concurrency: [64],
    seconds: 20,
    rounds: 2,
    settle: 2,
    seatsPerCheckout: 2,
    note: '',
    out: 'bench/results',
    watch: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--concurrency') opts.concurrency = next().split(',').map(Number);
    else if (a === '--seconds') opts.seconds = Number(next());
    else if (a === '--rounds') opts.rounds = Number(next());
    else if (a === '--settle') opts.settle = Number(next());
    else if (a === '--note') opts.note = next();
    else if (a === '--out') opts.out = next();
    else if (a === '--tuning') {
      const m = /^([a-z0-9-]+)=(\{.*\})$/.exec(next());
      if (!m) throw new Error(`--tuning expects name={json}, got ${argv[i]}`);
      tunings.set(m[1]!, m[2]!);
    } else if (a === '--watch') {
      const m = /^([a-z0-9-]+)@(.+)$/.exec(next());
      if (!m) throw new Error(`--watch expects name@pidfile, got ${argv[i]}`);
      opts.watch.push({ name: m[1]!, pid: Number(readFileSync(m[2]!, 'utf8').trim()) });
    } else if (a === '--kinds') {
      const kinds = next().split(',');
      for (const k of kinds) if (!KINDS.includes(k as Kind)) throw new Error(`--kinds: ${k} is not one of ${KINDS.join(', ')}`);
      opts.kinds = kinds as Kind[];
    } else {
      const m = /^([a-z0-9-]+)=([^@]+)(?:@(.+))?$/.exec(a);
      if (!m) throw new Error(`expected name=host:port[@pidfile], got ${a}`);
      const pid = m[3] ? Number(readFileSync(m[3], 'utf8').trim()) : undefined;
      targets.push({ name: m[1]!, address: m[2]!, pid });
    }
  }
  for (const [k, v] of [
    ...opts.concurrency.map((c) => ['concurrency', c] as const),
    ['seconds', opts.seconds] as const,
    ['rounds', opts.rounds] as const,
  ]) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer, got ${v}`);
  }
  if (!(opts.settle >= 0)) throw new Error(`--settle must be zero or more seconds, got ${opts.settle}`);
  if (targets.length === 0) throw new Error('name at least one server: dev=127.0.0.1:7233 cluster=127.0.0.1:7333');
  for (const [name, json] of tunings) {
    const t = targets.find((x) => x.name === name);
    if (!t) throw new Error(`--tuning names ${name}, which is not a server given`);
    t.tuning = json;
  }
  return { targets, opts };
}

const progress = (text: string) => process.stderr.write(`[temporal-servers] ${text}\n`);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

interface Setup {
  t: Target;
  worker: AppProcess;
  taskQueue: string;
  connection: Connection;
  client: Client;
  prepared: PreparedCheckouts;
  /** Next unused buyer of `prepared`. */
  next: number;
}

async function setUp(t: Target, opts: Options, databaseUrl: string): Promise<Setup> {
  const taskQueue = `servers-${t.name}-${randomBytes(4).toString('hex')}`;
  // Enough buyers for a checkout rate well above what two cores give, plus the warm-up.
  const checkouts = opts.kinds.includes('checkout') ? 60 * opts.seconds * opts.rounds * opts.concurrency.length + 50 : 0;
  const worker = new AppProcess(`servers-${t.name}-worker`, 'bench/temporal-worker.ts', {
    TEMPORAL_ADDRESS: t.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'warn',
    ...(t.tuning && { BENCH_WORKER_TUNING: t.tuning }),
  });
  const [, prepared, connection] = await Promise.all([
    worker.start(),
    prepareCheckouts(databaseUrl, { checkouts, seatsPerCheckout: opts.seatsPerCheckout, name: `bench servers ${t.name}` }),
    Connection.connect({ address: t.address }),
  ]);
  return { t, worker, taskQueue, connection, client: new Client({ connection, namespace: 'default' }), prepared, next: 0 };
}

function runKind(s: Setup, kind: Kind, o: { concurrency: number; seconds: number; maxOps?: number; label: string }): Promise<LoadResult> {
  const emptyQueue = `${s.taskQueue}-empty`;
  const limit = kind === 'checkout' ? Math.min(o.maxOps ?? Infinity, s.prepared.buyers.length - s.next) : o.maxOps;
  return runLoad({
    concurrency: o.concurrency,
    durationMs: o.seconds * 1000,
    maxOps: limit,
    keepLatencies: true,
    op: async () => {
      if (kind === 'empty') await emptyWorkflow(s.client, emptyQueue);
      else await runCheckout(s.client, s.taskQueue, s.prepared, s.next++);
      return 'ok';
    },
    onTick: (n) => progress(`${o.label}: ${n}`),
  });
}

async function measureWindow(
  s: Setup,
  kind: Kind,
  concurrency: number,
  roundNo: number,
  opts: Options,
  pool: ReturnType<typeof createPool>,
): Promise<{ row: Window; load: LoadResult }> {
  const groups: Record<'server' | 'worker' | `watch:${string}`, number[]> = {
    server: s.t.pid ? [s.t.pid] : [],
    worker: [s.worker.pid!],
  };
  for (const w of opts.watch) groups[`watch:${w.name}`] = [w.pid];
  const snap = async () => {
    const procs = cpuByProcessGroup(groups);
    const pg = await postgresBackendsCpu(pool, { server: procs.server.pids, worker: procs.worker.pids });
    const self = process.cpuUsage();
    return {
      server: procs.server.ms,
      serverPostgres: pg.server,
      worker: procs.worker.ms,
      workerPostgres: pg.worker,
      loadGenerator: (self.user + self.system) / 1000,
      watched: Object.fromEntries(opts.watch.map((w) => [w.name, procs[`watch:${w.name}`]!.ms])),
    };
  };
  const before = await snap();
  const load = await runKind(s, kind, {
    concurrency,
    seconds: opts.seconds,
    label: `round ${roundNo} ${s.t.name} ${kind} ×${concurrency}`,
  });
  // What the window's operations leave behind (a checkout's last activities and workflow task) counts for them.
  await sleep(opts.settle * 1000);
  const after = await snap();
  const ops = load.outcomes.ok ?? 0;
  const perOp = (k: 'server' | 'worker' | 'loadGenerator') => round((after[k] - before[k]) / ops, 1);
  const pgPerOp = (k: 'serverPostgres' | 'workerPostgres') => round(backendsDeltaMs(before[k], after[k]) / ops, 1);
  const row: Window = {
    round: roundNo,
    server: s.t.name,
    kind,
    concurrency,
    ops,
    errors: load.outcomes.error ?? 0,
    perSecond: load.rates.ok ?? 0,
    p50ms: Math.round(load.latency.p50),
    p99ms: Math.round(load.latency.p99),
    cpuMsPerOp: ops
      ? {
          server: s.t.pid ? perOp('server') : NaN,
          serverPostgres: pgPerOp('serverPostgres'),
          worker: perOp('worker'),
          workerPostgres: pgPerOp('workerPostgres'),
          loadGenerator: perOp('loadGenerator'),
          watched: Object.fromEntries(opts.watch.map((w) => [w.name, round((after.watched[w.name]! - before.watched[w.name]!) / ops, 1)])),
        }
      : null,
    loadavg: loadavg(),
  };
  return { row, load };
}

interface Summary {
  server: string;
  kind: Kind;
  concurrency: number;
  perSecond: number;
  windows: number[];
  ops: number;
  errors: number;
  p50ms: number;
  p99ms: number;
  /** Totals over the kind's windows divided by its operations. */
  cpuMsPerOp: CpuPerOp;
}

function summarize(rows: Window[], loads: Map<Window, LoadResult>, server: string, kind: Kind, concurrency: number): Summary | null {
  const mine = rows.filter((r) => r.server === server && r.kind === kind && r.concurrency === concurrency);
  if (mine.length === 0) return null;
  const merged = mergeLoads(mine.map((r) => loads.get(r)!));
  const ops = merged.outcomes.ok ?? 0;
  const weightedBy = (f: (c: CpuPerOp) => number) =>
    ops ? round(mine.reduce((a, r) => a + (r.cpuMsPerOp ? f(r.cpuMsPerOp) * r.ops : 0), 0) / ops, 1) : NaN;
  const weighted = (k: Exclude<keyof CpuPerOp, 'watched'>) => weightedBy((c) => c[k]);
  const watchedNames = Object.keys(mine.find((r) => r.cpuMsPerOp)?.cpuMsPerOp?.watched ?? {});
  return {
    server,
    kind,
    concurrency,
    perSecond: merged.rates.ok ?? 0,
    windows: mine.map((r) => r.perSecond),
    ops,
    errors: merged.outcomes.error ?? 0,
    p50ms: Math.round(merged.latency.p50),
    p99ms: Math.round(merged.latency.p99),
    cpuMsPerOp: {
      server: weighted('server'),
      serverPostgres: weighted('serverPostgres'),
      worker: weighted('worker'),
      workerPostgres: weighted('workerPostgres'),
      loadGenerator: weighted('loadGenerator'),
      watched: Object.fromEntries(watchedNames.map((n) => [n, weightedBy((c) => c.watched[n] ?? 0)])),
    },
  };
}

interface Machine {
  cores: number;
  uptimeBefore: string;
  uptimeAfter: string;
  date: string;
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : '–');

function markdown(targets: Target[], summaries: Summary[], opts: Options, machine: Machine): string {
  const get = (server: string, kind: Kind, concurrency: number) =>
    summaries.find((s) => s.server === server && s.kind === kind && s.concurrency === concurrency);
  const lines = [
    '| server | in flight | empty wf/s (windows) | checkouts/s (windows) | checkouts ÷ empty | p50 · p99 ms, empty · checkout |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [t, n] of opts.concurrency.flatMap((n) => targets.map((t) => [t, n] as const))) {
    const e = get(t.name, 'empty', n);
    const c = get(t.name, 'checkout', n);
    const cell = (s: Summary | undefined) =>
      s ? `${s.perSecond} (${s.windows.join(', ')})${s.errors ? `, ${s.errors} errors` : ''}` : '–';
    const ratio = e && c && e.perSecond ? round(c.perSecond / e.perSecond, 2) : NaN;
    const latency = (s: Summary | undefined) => (s ? `${s.p50ms} · ${s.p99ms}` : '–');
    lines.push(`| ${t.name} (${t.address}) | ${n} | ${cell(e)} | ${cell(c)} | **${num(ratio)}** | ${latency(e)}, ${latency(c)} |`);
  }
  // Where each operation's CPU goes: the figures that say why a ratio is what it is on a CPU-bound machine.
  const watched = opts.watch.map((w) => w.name);
  const cpu = [
    '',
    `| CPU ms per operation | server | server's Postgres | worker process | worker's Postgres | ${watched.map((w) => `${w} | `).join('')}load generator | total |`,
    `| --- | ---: | ---: | ---: | ---: | ${watched.map(() => '---: | ').join('')}---: | ---: |`,
    ...summaries.map((s) => {
      const c = s.cpuMsPerOp;
      const parts = [c.server, c.serverPostgres, c.worker, c.workerPostgres, ...watched.map((w) => c.watched[w] ?? NaN), c.loadGenerator];
      const total = round(
        parts.filter((v) => Number.isFinite(v)).reduce((x, y) => x + y, 0),
        1,
      );
      return `| ${s.server} ${s.kind} ×${s.concurrency} | ${parts.map(num).join(' | ')} | ${total} |`;
    }),
  ];
  lines.push(...cpu);
  const [a, b] = targets;
  const cross: string[] = [];
  if (a && b) {
    for (const n of opts.concurrency) {
      for (const kind of opts.kinds) {
        const x = get(a.name, kind, n);
        const y = get(b.name, kind, n);
        if (x && y && y.perSecond) cross.push(`${kind} ×${n} ${a.name} ÷ ${b.name}: ${round(x.perSecond / y.perSecond, 2)}`);
      }
    }
  }
  return [
    ...lines,
    '',
    ...(cross.length ? [`Side by side: ${cross.join('; ')}.`, ''] : []),
    `${opts.rounds} round(s) of ${opts.seconds} s windows per server, kind and level of ${opts.concurrency.join(' and ')} in flight, alternating (ABBA), ` +
      `${opts.seatsPerCheckout} seats per checkout, ${opts.settle} s settle after each window counted in its CPU; ` +
      `one worker process per server (real worker + empty-workflow worker), the load generator in its own process.` +
      (opts.note ? ` ${opts.note}.` : '') +
      targets
        .filter((t) => t.tuning)
        .map((t) => ` Worker of ${t.name}: production tuning with ${t.tuning}.`)
        .join(''),
    '',
    `Machine: ${machine.cores} cores shared with other work, ${machine.date}. Before: \`${machine.uptimeBefore}\`. After: \`${machine.uptimeAfter}\`.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  // --report FILE: the table and charts again from a run's JSON (e.g. after a change to how they are drawn).
  const report = process.argv.indexOf('--report');
  if (report >= 0) {
    const file = process.argv[report + 1];
    if (!file) throw new Error('--report needs the JSON file of a run');
    const r = JSON.parse(readFileSync(file, 'utf8')) as Report;
    await writeReport({ ...r, options: { ...r.options, out: path.dirname(file) } });
    return;
  }
  const { targets, opts } = parseArgs(process.argv.slice(2));
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: set -a; source .state/stack.env; set +a');
  const uptimeBefore = uptime();
  progress(`start: ${uptimeBefore}`);
  progress(`starting ${targets.length} worker process(es) and seeding checkouts`);
  const pool = createPool(databaseUrl, { max: 1, application_name: 'onsale-bench-cpu' });
  const setups: Setup[] = [];
  const rows: Window[] = [];
  const loads = new Map<Window, LoadResult>();
  try {
    for (const s of await Promise.allSettled(targets.map((t) => setUp(t, opts, databaseUrl)))) {
      if (s.status === 'fulfilled') setups.push(s.value);
      else throw s.reason;
    }
    // Warm-up, not measured: the worker's first workflows load the bundle into its isolates.
    for (const s of setups) {
      for (const kind of opts.kinds) {
        progress(`warm-up ${s.t.name} ${kind}`);
        const w = await runKind(s, kind, { concurrency: 8, seconds: 30, maxOps: 16, label: `warm-up ${s.t.name} ${kind}` });
        if (!w.outcomes.ok) throw new Error(`warm-up of ${kind} on ${s.t.name} (${s.t.address}) failed: nothing completed`);
      }
    }
    // ABBA: round 1 goes kinds, levels and servers forwards, round 2 backwards, and so on.
    for (let r = 1; r <= opts.rounds; r++) {
      const forwards = r % 2 === 1;
      const kinds = forwards ? opts.kinds : [...opts.kinds].reverse();
      for (const kind of kinds) {
        for (const n of forwards ? opts.concurrency : [...opts.concurrency].reverse()) {
          for (const s of forwards ? setups : [...setups].reverse()) {
            const { row, load } = await measureWindow(s, kind, n, r, opts, pool);
            rows.push(row);
            loads.set(row, load);
            process.stdout.write(`${JSON.stringify(row)}\n`);
          }
        }
      }
    }
  } finally {
    await Promise.allSettled(setups.map((s) => s.worker.terminate()));
    await Promise.allSettled(setups.map((s) => s.connection.close()));
    await Promise.allSettled(setups.map((s) => s.prepared.close()));
    await pool.end();
  }
  const uptimeAfter = uptime();
  progress(`end: ${uptimeAfter}`);
  const summaries = opts.concurrency.flatMap((n) =>
    targets.flatMap((t) => opts.kinds.map((k) => summarize(rows, loads, t.name, k, n)).filter((s): s is Summary => !!s)),
  );
  const machine = { cores: os.cpus().length, uptimeBefore, uptimeAfter, date: new Date().toISOString() };
  await writeReport({ options: opts, targets, machine, summaries, windows: rows });
}

interface Report {
  options: Options;
  targets: Target[];
  machine: Machine;
  summaries: Summary[];
  windows: Window[];
}

/** The table, the charts and the JSON of one run, in options.out. */
async function writeReport(r: Report): Promise<void> {
  const { options: opts, targets, machine, summaries } = r;
  const md = markdown(targets, summaries, opts, machine);

  const rate = (server: string, kind: Kind, n: number) =>
    summaries.find((s) => s.server === server && s.kind === kind && s.concurrency === n)?.perSecond ?? 0;
  const chart = barChart(
    'Empty workflows and checkouts per second, per Temporal server and operations in flight (one run, alternating windows)',
    opts.concurrency.flatMap((n) =>
      targets.map((t) => ({
        label: `${t.name} ×${n}`,
        values: { 'empty wf/s': rate(t.name, 'empty', n), 'checkouts/s': rate(t.name, 'checkout', n) },
      })),
    ),
    { yLabel: 'per second', width: 560, height: 280 },
  );
  const cpuChart = barChart(
    'CPU ms per operation, by process',
    summaries.map((s) => ({
      label: `${s.server} ${s.kind} ×${s.concurrency}`,
      values: {
        server: Number.isFinite(s.cpuMsPerOp.server) ? s.cpuMsPerOp.server : 0,
        "server's pg": s.cpuMsPerOp.serverPostgres,
        worker: s.cpuMsPerOp.worker,
        "worker's pg": s.cpuMsPerOp.workerPostgres,
      },
    })),
    { yLabel: 'CPU ms per operation', width: Math.max(560, 130 * summaries.length), height: 280 },
  );
  mkdirSync(opts.out, { recursive: true });
  const file = (ext: string) => path.join(opts.out, `temporal-servers${ext}`);
  writeFileSync(file('.svg'), `${chart}\n`);
  writeFileSync(file('-cpu.svg'), `${cpuChart}\n`);
  const png = await renderPng(
    `<!doctype html><body style="margin:0;background:#fff"><div id="c" style="display:inline-flex;flex-direction:column;gap:12px">${chart}${cpuChart}</div></body>`,
    '#c',
    file('.png'),
  ).catch((e: unknown) => String(e));
  writeFileSync(file('.md'), md);
  writeFileSync(file('.json'), `${JSON.stringify(r, null, 2)}\n`);
  process.stdout.write(
    `\n${md}\nfiles: ${file('.md')}, ${file('.json')}, ${file('.svg')}, ${file('-cpu.svg')}${png ? ` (no PNG: ${png})` : `, ${file('.png')}`}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
