/**
 * The capacity model, from measurements on the cluster topology: CPU time per
 * operation per tier, read from each process's own counters (bench/lib/cpu.ts)
 * while one kind of operation at a time goes through HAProxy, minus the idle
 * rate measured just before. From those costs it computes the cores each tier
 * needs at the seed's scale, Temporal actions per second and their Temporal
 * Cloud price, prints the table, and writes it with a chart (SVG, and a PNG
 * when the system's Chromium is there) for the README.
 *
 * Run: ./onsale capacity [--quick] [--out DIR]   (brings the cluster topology up first)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPool } from '../db/pool';
import { loadConfigOrExit } from '../platform/config';
import { connectClient } from '../platform/temporal';
import { ROOT, sleep } from '../harness/processes';
import { ClusterCpu, cpuDelta, type CpuSnapshot, type Tier, TIERS } from './lib/cpu';
import { clientAddress, HttpClient } from './lib/http';
import { inParallel, runLoad } from './lib/load';
import { round } from './lib/stats';
import { barChart } from './report/svg';
import { renderPng } from './report/png';
import { mintBuyers } from './suites/http';
import { countActions } from './suites/temporal';

/**
 * The price assumed for Temporal Cloud: the base rate of its pricing page, and
 * the volume tier the seed's monthly actions would fall in under a credit
 * commitment (the same page's table).
 */
export const CLOUD_PRICE = {
  usdPerMillion: 25,
  tiers: [
    { upToMillions: 300, usd: 23.25 },
    { upToMillions: 1_500, usd: 18.8 },
    { upToMillions: 7_500, usd: 14.1 },
    { upToMillions: 30_000, usd: 10.5 },
    { upToMillions: 150_000, usd: 7.9 },
    { upToMillions: Infinity, usd: 5.9 },
  ],
  source:
    'docs.temporal.io/cloud/pricing, "Action pricing": base rate $25 per million Actions (prorated); credit tiers $23.25 (≤300M/month) down to $5.90 (>150B), as read on 2026-11-29',
};

/** The seed's scale (DESIGN.md "The numbers it is built for") and the assumptions that turn it into request rates. */
export const SEED = {
  users: 1_000_000,
  purchasesPerSecond: 10_000,
  seatsPerEvent: 50_000,
  /** The buyer page polls GET /queue/me every 2 s (web/page/queue.ts); it is per buyer, so no CDN answers it. */
  statusPollSeconds: 2,
  /** The crowd joins over the first minute of the sale. */
  joinSpreadSeconds: 60,
  /** Public reads cached for 1 s by the CDN reach the origin once a second per edge location and event. */
  cdnEdges: 300,
  /** Losing hold attempts per purchase (contention on the best seats; the bench's contention suite runs 10:1). */
  losingHoldsPerPurchase: 2,
  seatsPerPurchase: 2,
};

interface Args {
  quick: boolean;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, out: path.join(ROOT, 'bench/results') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') a.quick = true;
    else if (argv[i] === '--out') a.out = path.resolve(argv[++i] ?? '');
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return a;
}

interface OpCost {
  op: string;
  count: number;
  seconds: number;
  perSecond: number;
  /** CPU ms per operation per tier, idle rate removed. */
  ms: Record<Tier, number>;
  redisCommands: number;
  outcomes: Record<string, number>;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfigOrExit();
  const base = process.env.ONSALE_API_URL ?? `http://127.0.0.1:${config.API_PORT}`;
  const nodes = (process.env.REDIS_CLUSTER_NODES ?? process.env.ONSALE_REDIS_CLUSTER_NODES ?? '')
    .split(',')
    .filter(Boolean)
    .map((hp) => ({ host: hp.split(':')[0]!, port: Number(hp.split(':')[1]) }));
  const pool = createPool(config.DATABASE_URL, { max: 2, application_name: 'onsale-bench' });
  const temporal = await connectClient(config);
  const state = process.env.ONSALE_STATE_DIR ?? path.join(ROOT, '.state');
  const cpu = new ClusterCpu(path.join(state, 'run'), pool, nodes, [
    process.env.ONSALE_TEMPORAL_DB ?? 'temporal',
    process.env.ONSALE_TEMPORAL_VISIBILITY_DB ?? 'temporal_visibility',
  ]);
  const http = new HttpClient(base, 64);
  const log = (t: string) => process.stdout.write(`[capacity ${new Date().toISOString().slice(11, 19)}] ${t}\n`);
  const size = args.quick
    ? { joins: 1500, seatReads: 600, losing: 1500, checkouts: 150, concurrency: 24 }
    : { joins: 6000, seatReads: 2400, losing: 6000, checkouts: 600, concurrency: 32 };
  const loadBefore = os.loadavg();
  log(
    `cluster: ${JSON.stringify(cpu.replicas)} replicas, Temporal ${config.TEMPORAL_ADDRESS}, ${process.env.ONSALE_TEMPORAL_HISTORY_SHARDS ?? '?'} history shards; load ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`,
  );

  // ---- idle: what the topology burns doing nothing (timers, polls, health checks), subtracted below
  const i0 = await cpu.snapshot();
  await sleep(args.quick ? 4000 : 8000);
  const idle = cpuDelta(i0, await cpu.snapshot());
  const idleRate = Object.fromEntries(TIERS.map((t) => [t, idle.ms[t] / idle.seconds])) as Record<Tier, number>;
  const idleRedisRate = idle.redisCalls / idle.seconds;
  log(`idle CPU ms/s: ${JSON.stringify(Object.fromEntries(TIERS.map((t) => [t, round(idleRate[t], 1)])))}`);

  const costs: OpCost[] = [];
  async function measure(
    op: string,
    run: () => Promise<Record<string, number>>,
    counted: (o: Record<string, number>) => number,
    tailMs = 0,
  ) {
    const a: CpuSnapshot = await cpu.snapshot();
    const outcomes = await run();
    if (tailMs) await sleep(tailMs);
    const d = cpuDelta(a, await cpu.snapshot());
    const n = Math.max(1, counted(outcomes));
    const ms = Object.fromEntries(TIERS.map((t) => [t, round(Math.max(0, d.ms[t] - idleRate[t] * d.seconds) / n, 3)])) as Record<
      Tier,
      number
    >;
    const c: OpCost = {
      op,
      count: n,
      seconds: round(d.seconds, 2),
      perSecond: round(n / Math.max(0.001, d.seconds - tailMs / 1000), 1),
      ms,
      redisCommands: round(Math.max(0, d.redisCalls - idleRedisRate * d.seconds) / n, 2),
      outcomes,
    };
    costs.push(c);
    log(
      `${op}: ${n} in ${c.seconds} s; CPU ms/op ${JSON.stringify(ms)}; Redis commands/op ${c.redisCommands}; ${JSON.stringify(outcomes)}`,
    );
    return c;
  }
  async function load(total: number, op: (seq: number) => Promise<string>) {
    const r = await runLoad({ concurrency: size.concurrency, durationMs: 300_000, maxOps: total, op: (_l, seq) => op(seq) });
    return r.outcomes;
  }
  const admin = async (p: string, body?: unknown) => {
    const r = await http.json('POST', p, { token: config.ADMIN_TOKEN, body });
    if (r.status >= 300) throw new Error(`${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const section = (rows: number, seatsPerRow: number) => [{ id: 'A', name: 'Floor', rows, seatsPerRow, priceCents: 9900 }];

  // ---- waiting room: join, then status
  const room = await admin('/v1/admin/events', {
    name: 'capacity waiting room',
    onSaleAt: new Date(Date.now() + 3600_000).toISOString(),
    holdSeconds: 300,
    maxSeatsPerBuyer: 4,
    waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60 },
    sections: section(10, 10),
  });
  await admin(`/v1/admin/events/${room.eventId}/open`);
  const joiners = await mintBuyers(config, size.joins, 'cj');
  const xff = (i: number) => ({ 'x-forwarded-for': clientAddress(i) });
  await measure(
    'join',
    () =>
      load(
        size.joins,
        async (i) =>
          `http${(await http.request('POST', `/v1/events/${room.eventId}/queue`, { token: joiners[i]!.token, headers: xff(i) })).status}`,
      ),
    (o) => (o.http201 ?? 0) + (o.http200 ?? 0),
  );
  await measure(
    'status',
    () =>
      load(
        size.joins,
        async (i) =>
          `http${(await http.request('GET', `/v1/events/${room.eventId}/queue/me`, { token: joiners[i]!.token, headers: xff(i) })).status}`,
      ),
    (o) => o.http200 ?? 0,
  );
  await admin(`/v1/admin/events/${room.eventId}/close`).catch(() => undefined);

  // ---- checkout: every buyer the seed's seats per purchase, reserve (hold) then confirm (purchase)
  const sale = await admin('/v1/admin/events', {
    name: 'capacity checkouts',
    holdSeconds: 300,
    maxSeatsPerBuyer: 4,
    waitingRoom: { enabled: false },
    sections: section(Math.ceil((size.checkouts * SEED.seatsPerPurchase) / 20) + 1, 20),
  });
  await admin(`/v1/admin/events/${sale.eventId}/open`);
  const buyers = await mintBuyers(config, size.checkouts, 'cc');
  const holds: (string | null)[] = new Array<string | null>(size.checkouts).fill(null);
  await measure(
    'seat statuses',
    () =>
      load(
        size.seatReads,
        async () => `http${(await http.request('GET', `/v1/events/${sale.eventId}/seats/status`, { raw: true })).status}`,
      ),
    (o) => o.http200 ?? 0,
  );
  const reserve = await measure(
    'hold (reserve, granted)',
    () =>
      load(size.checkouts, async (i) => {
        const r = await http.json('POST', `/v1/events/${sale.eventId}/hold`, {
          token: buyers[i]!.token,
          body: { quantity: SEED.seatsPerPurchase },
          headers: xff(i),
        });
        if (r.status === 201) holds[i] = r.body.holdId;
        return `http${r.status}`;
      }),
    (o) => o.http201 ?? 0,
    2000,
  );
  const confirm = await measure(
    'purchase (confirm)',
    () =>
      load(size.checkouts, async (i) => {
        if (!holds[i]) return 'nohold';
        const r = await http.request('POST', `/v1/events/${sale.eventId}/purchase`, {
          token: buyers[i]!.token,
          body: { holdId: holds[i], paymentMethod: 'pm_card_visa' },
          headers: xff(i),
          timeoutMs: 60_000,
        });
        return `http${r.status}`;
      }),
    (o) => o.http200 ?? 0,
    3000,
  );

  // ---- losing hold attempts: a sold-out event, every attempt turned away
  const full = await admin('/v1/admin/events', {
    name: 'capacity contention',
    holdSeconds: 300,
    maxSeatsPerBuyer: 4,
    waitingRoom: { enabled: false },
    sections: section(1, 10),
  });
  await admin(`/v1/admin/events/${full.eventId}/open`);
  const takers = await mintBuyers(config, 10, 'ck');
  await inParallel(takers, 10, (b, i) =>
    http.request('POST', `/v1/events/${full.eventId}/hold`, { token: b.token, body: { quantity: 1 }, headers: xff(i) }),
  );
  const losers = await mintBuyers(config, size.losing, 'cl');
  await measure(
    'hold attempt (losing)',
    () =>
      load(size.losing, async (i) => {
        const body = i % 2 ? { quantity: 1 } : { seatIds: [`A-1-${1 + (i % 10)}`] };
        return `http${(await http.request('POST', `/v1/events/${full.eventId}/hold`, { token: losers[i]!.token, body, headers: xff(size.checkouts + i) })).status}`;
      }),
    (o) => o.http409 ?? 0,
  );
  await admin(`/v1/admin/events/${full.eventId}/close`).catch(() => undefined);

  // ---- Temporal actions per checkout, from the histories
  log('counting Temporal actions of the checkouts');
  const ids: string[] = [];
  for await (const wf of temporal.workflow.list({ query: `EventId = '${sale.eventId}'` })) ids.push(wf.workflowId);
  const actions = await countActions(temporal, ids);
  const confirmed = confirm.count;
  const actionsPerCheckout = confirmed ? actions.total / confirmed : 0;
  await admin(`/v1/admin/events/${sale.eventId}/close`).catch(() => undefined);

  // ---- the model
  const checkout = Object.fromEntries(TIERS.map((t) => [t, round(reserve.ms[t] + confirm.ms[t], 3)])) as Record<Tier, number>;
  const byOp = Object.fromEntries(costs.map((c) => [c.op, c]));
  const rates: { op: string; perSecond: number; ms: Record<Tier, number>; basis: string }[] = [
    {
      op: 'join',
      perSecond: SEED.users / SEED.joinSpreadSeconds,
      ms: byOp.join!.ms,
      basis: `${SEED.users.toLocaleString('en')} joins over ${SEED.joinSpreadSeconds} s`,
    },
    {
      op: 'status',
      perSecond: SEED.users / SEED.statusPollSeconds,
      ms: byOp.status!.ms,
      basis: `every user every ${SEED.statusPollSeconds} s (per buyer, not cacheable)`,
    },
    {
      op: 'seat statuses',
      perSecond: SEED.cdnEdges,
      ms: byOp['seat statuses']!.ms,
      basis: `1 s CDN cache: once a second per edge (${SEED.cdnEdges} edges), one event`,
    },
    {
      op: 'hold attempt (losing)',
      perSecond: SEED.purchasesPerSecond * SEED.losingHoldsPerPurchase,
      ms: byOp['hold attempt (losing)']!.ms,
      basis: `${SEED.losingHoldsPerPurchase} per purchase`,
    },
    {
      op: 'checkout (hold + purchase)',
      perSecond: SEED.purchasesPerSecond,
      ms: checkout,
      basis: `${SEED.purchasesPerSecond.toLocaleString('en')} purchases/s, ${SEED.seatsPerPurchase} seats each`,
    },
  ];
  const cores = Object.fromEntries(
    TIERS.map((t) => [
      t,
      round(
        rates.reduce((s, r) => s + (r.perSecond * r.ms[t]) / 1000, 0),
        1,
      ),
    ]),
  ) as Record<Tier, number>;
  const actionsPerSecond = SEED.purchasesPerSecond * actionsPerCheckout;
  const usdPerSecond = (actionsPerSecond / 1e6) * CLOUD_PRICE.usdPerMillion;
  const checkoutsPerEvent = SEED.seatsPerEvent / SEED.seatsPerPurchase;
  const actionsPerEvent = checkoutsPerEvent * actionsPerCheckout;
  const tierPrice = (millions: number) => CLOUD_PRICE.tiers.find((t) => millions <= t.upToMillions)!.usd;

  const loadAfter = os.loadavg();
  const tierNames = TIERS.filter((t) => rates.some((r) => r.ms[t] > 0));
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(3));
  const table = [
    `| operation | measured/s here | ${tierNames.map((t) => `${t} CPU ms/op`).join(' | ')} | Redis cmds/op | seed rate /s | basis |`,
    `| --- | ---: | ${tierNames.map(() => '---:').join(' | ')} | ---: | ---: | --- |`,
    ...rates.map((r) => {
      const c = r.op.startsWith('checkout') ? null : byOp[r.op];
      const redisCmds = c ? c.redisCommands : round(reserve.redisCommands + confirm.redisCommands, 2);
      const here = c ? c.perSecond : confirm.perSecond;
      return `| ${r.op} | ${here} | ${tierNames.map((t) => fmt(r.ms[t])).join(' | ')} | ${redisCmds} | ${Math.round(r.perSecond).toLocaleString('en')} | ${r.basis} |`;
    }),
    `| **cores at the seed's scale** | | ${tierNames.map((t) => `**${cores[t]}**`).join(' | ')} | | | |`,
  ].join('\n');
  const split = `Postgres per reserve ${fmt(reserve.ms['postgres (app)'])} ms, per confirm ${fmt(confirm.ms['postgres (app)'])} ms; Temporal server per checkout ${fmt(checkout.temporal)} ms (+ ${fmt(checkout['postgres (Temporal)'])} ms of its Postgres)`;
  const temporalLine =
    `Temporal: ${round(actionsPerCheckout, 2)} actions per checkout (${actions.total} over ${ids.length} workflows, ${confirmed} confirmed) → ` +
    `${Math.round(actionsPerSecond).toLocaleString('en')} actions/s at ${SEED.purchasesPerSecond.toLocaleString('en')} purchases/s = ` +
    `$${round(usdPerSecond, 2)}/s, $${Math.round(usdPerSecond * 3600).toLocaleString('en')} per peak hour at $${CLOUD_PRICE.usdPerMillion}/M; ` +
    `one ${SEED.seatsPerEvent.toLocaleString('en')}-seat sell-out (${checkoutsPerEvent.toLocaleString('en')} checkouts of ${SEED.seatsPerPurchase} seats) = ` +
    `${Math.round(actionsPerEvent).toLocaleString('en')} actions = $${round((actionsPerEvent / 1e6) * CLOUD_PRICE.usdPerMillion, 2)}`;
  const peakHourMillions = (actionsPerSecond * 3600) / 1e6;
  const volumeLine = `A month with one peak hour (${round(peakHourMillions, 0).toLocaleString('en')}M actions) falls in the $${tierPrice(peakHourMillions)}/M credit tier: $${Math.round(peakHourMillions * tierPrice(peakHourMillions)).toLocaleString('en')}. Price: ${CLOUD_PRICE.source}.`;
  const machine = `Measured on ${os.cpus().length} cores shared with other work, load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} before and ${loadAfter.map((x) => x.toFixed(2)).join(' ')} after; ${cpu.replicas.api} API + ${cpu.replicas.worker} worker processes, ${process.env.ONSALE_TEMPORAL_HISTORY_SHARDS ?? '?'} history shards, Redis Cluster of ${nodes.length} masters, ${args.quick ? 'quick' : 'full'} mode.`;

  const chart = barChart(
    `Cores per tier at the seed's scale (${SEED.users.toLocaleString('en')} users, ${SEED.purchasesPerSecond.toLocaleString('en')} purchases/s)`,
    tierNames.map((t) => ({
      label: t.replace('postgres ', 'pg '),
      values: Object.fromEntries(rates.map((r) => [r.op.split(' ')[0]!, round((r.perSecond * r.ms[t]) / 1000, 2)])),
    })),
    { yLabel: 'cores', log: true, width: 760, height: 320 },
  );
  mkdirSync(args.out, { recursive: true });
  const svgFile = path.join(args.out, 'capacity.svg');
  writeFileSync(svgFile, `${chart}\n`);
  const png = await renderPng(
    `<!doctype html><body style="margin:0;background:#fff">${chart}</body>`,
    'svg',
    path.join(args.out, 'capacity.png'),
  ).catch((e: unknown) => String(e));
  const md = [table, '', split, '', temporalLine, '', volumeLine, '', machine, ''].join('\n');
  writeFileSync(path.join(args.out, 'capacity-table.md'), md);
  writeFileSync(
    path.join(args.out, 'capacity.json'),
    `${JSON.stringify({ seed: SEED, price: CLOUD_PRICE, machine: { cores: os.cpus().length, loadBefore, loadAfter }, replicas: cpu.replicas, idleRate, costs, checkout, rates, cores, actions: { ...actions, perCheckout: actionsPerCheckout, perSecond: actionsPerSecond }, mode: args.quick ? 'quick' : 'full' }, null, 2)}\n`,
  );
  process.stdout.write(`\n${md}\nchart: ${svgFile}${png ? ` (no PNG: ${png})` : ` and ${path.join(args.out, 'capacity.png')}`}\n`);
  http.close();
  await pool.end();
  await temporal.connection.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
