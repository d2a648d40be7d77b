/**
 * The kill-mid-run rehearsal on the cluster topology (scripts/cluster.sh): the
 * flash-crowd simulator through HAProxy while one API process and one worker
 * are killed with SIGKILL, then the database audit and the payment provider's
 * books. HAProxy's health checks must take the dead API out of rotation, the
 * surviving worker must carry on every checkout, every buyer must end with a
 * final answer, and the audit must be clean.
 *
 * Run: ./onsale rehearse [--quick] [--no-restart] [--kill-after-holds N] [--json FILE]
 * (it brings the cluster up first; this file expects its settings in the environment).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditDatabase } from '../db/audit';
import { createPool } from '../db/pool';
import { loadConfigOrExit } from '../platform/config';
import { connectClient } from '../platform/temporal';
import { ROOT, sleep } from '../harness/processes';
import { HttpClient } from './lib/http';
import { round, summarize } from './lib/stats';
import { type SimOptions, simulate } from './simulate';

const STATE = process.env.ONSALE_STATE_DIR ?? path.join(ROOT, '.state');
const RUN = path.join(STATE, 'run');
const LB_STATS = process.env.ONSALE_LB_STATS_URL ?? 'http://127.0.0.1:3309/stats;csv';
const VICTIM_API = { process: 'cluster-api-1', server: 'api1' };
const VICTIM_WORKER = 'cluster-worker-1';

interface Args {
  quick: boolean;
  restart: boolean;
  killAfterHolds: number;
  restartAfterMs: number;
  json: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, restart: true, killAfterHolds: 8, restartAfterMs: 15_000, json: null };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === '--quick') a.quick = true;
    else if (x === '--no-restart') a.restart = false;
    else if (x === '--kill-after-holds') a.killAfterHolds = Number(argv[++i]);
    else if (x === '--restart-after') a.restartAfterMs = Number(argv[++i]) * 1000;
    else if (x === '--json') a.json = argv[++i] ?? null;
    else throw new Error(`unknown argument ${x}`);
  }
  if (!Number.isInteger(a.killAfterHolds) || a.killAfterHolds < 1) throw new Error('--kill-after-holds takes a whole number ≥ 1');
  if (!Number.isFinite(a.restartAfterMs) || a.restartAfterMs < 0) throw new Error('--restart-after takes seconds');
  return a;
}

const simOptions = (quick: boolean): SimOptions => ({
  humans: quick ? 40 : 80,
  botsPerHuman: 5,
  seats: { rows: 4, seatsPerRow: 12, sections: 3 },
  arrivalSeconds: quick ? 6 : 10,
  arrivalCurve: 'spike',
  prequeueSeconds: 1,
  abandonShare: 0.15,
  declineShare: 0.1,
  maxSeconds: quick ? 50 : 75,
  holdSeconds: 30,
  maxActiveCheckouts: 50,
  admitPerMinute: 3000,
  seed: 14,
});

/** The process group a component of scripts/cluster.sh runs in (its pid file holds the group leader). */
function groupOf(name: string): number {
  const pid = Number(readFileSync(path.join(RUN, `${name}.pid`), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid for ${name} in ${RUN}`);
  return pid;
}

function killGroup(name: string): number {
  const pgid = groupOf(name);
  process.kill(-pgid, 'SIGKILL');
  return pgid;
}

/** HAProxy's view of the API replicas: status (UP, DOWN, ...) and requests sent to each. */
async function lbServers(http: HttpClient): Promise<Record<string, { status: string; requests: number }>> {
  const u = new URL(LB_STATS);
  const r = await http.request('GET', `${u.pathname}${u.search}`, { timeoutMs: 2000 });
  const [header, ...rows] = r.body.trim().split('\n');
  const cols = header!.replace(/^# /, '').split(',');
  const at = (name: string) => cols.indexOf(name);
  const out: Record<string, { status: string; requests: number }> = {};
  for (const line of rows) {
    const f = line.split(',');
    if (f[at('pxname')] !== 'api' || f[at('svname')] === 'BACKEND' || f[at('svname')] === 'FRONTEND') continue;
    out[f[at('svname')]!] = { status: f[at('status')]!, requests: Number(f[at('stot')]) };
  }
  return out;
}

/** scripts/cluster.sh up for the named components: starts whichever is down and waits until it is ready. */
function clusterUp(components: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts/cluster.sh'), 'up', ...components], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(0) : reject(new Error(`cluster.sh up ${components.join(' ')} failed:\n${err}`))));
  });
}

const FAILED = (status: number) => status === 0 || status >= 500;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfigOrExit();
  const base = process.env.ONSALE_API_URL ?? `http://127.0.0.1:${config.API_PORT}`;
  const pool = createPool(config.DATABASE_URL, { max: 4 });
  const temporal = await connectClient(config);
  const statsHttp = new HttpClient(new URL(LB_STATS).origin, 2);
  const probeHttp = new HttpClient(base, 4);
  const log = (t: string) => process.stdout.write(`[rehearse ${new Date().toISOString().slice(11, 19)}] ${t}\n`);

  const before = await lbServers(statsHttp);
  log(`cluster: Temporal ${config.TEMPORAL_ADDRESS}, API ${base} via HAProxy ${JSON.stringify(before)}`);
  log(
    `load: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (1/5/15 min), ${os.cpus().length} cores`,
  );

  // What the crowd sees, and a steady probe through the load balancer every 100 ms.
  const seen: { name: string; status: number; at: number }[] = [];
  const probes: { at: number; ok: boolean }[] = [];
  let holdsGranted = 0;
  let killAt = null as number | null;
  let lbDownAt = null as number | null;
  let lbUpAgainAt = null as number | null;
  let restartedAt = null as number | null;
  let restartError = null as string | null;
  const killed: Record<string, number> = {};
  let running = true;

  const probe = (async () => {
    while (running) {
      const r = await probeHttp.request('GET', '/healthz', { timeoutMs: 2000 }).catch(() => ({ status: 0 }));
      probes.push({ at: performance.now(), ok: r.status === 200 });
      await sleep(100);
    }
  })();

  async function kill(): Promise<void> {
    killAt = performance.now();
    killed.api = killGroup(VICTIM_API.process);
    killed.worker = killGroup(VICTIM_WORKER);
    log(
      `SIGKILL ${VICTIM_API.process} (group ${killed.api}) and ${VICTIM_WORKER} (group ${killed.worker}) after ${holdsGranted} holds granted`,
    );
    // How long HAProxy takes to take the dead replica out of rotation.
    for (;;) {
      const s = await lbServers(statsHttp).catch(() => null);
      if (s?.[VICTIM_API.server]?.status.startsWith('DOWN')) {
        lbDownAt = performance.now();
        log(`HAProxy marked ${VICTIM_API.server} DOWN ${Math.round(lbDownAt - killAt)} ms after the kill`);
        break;
      }
      if (performance.now() - killAt > 30_000) break;
      await sleep(100);
    }
    if (!args.restart) return;
    await sleep(Math.max(0, args.restartAfterMs - (performance.now() - killAt)));
    restartedAt = performance.now();
    log(`restarting ${VICTIM_API.process} and ${VICTIM_WORKER}`);
    try {
      await clusterUp(['worker', 'api']);
    } catch (err) {
      restartError = (err as Error).message;
      log(restartError);
      return;
    }
    for (;;) {
      const s = await lbServers(statsHttp).catch(() => null);
      if (s?.[VICTIM_API.server]?.status === 'UP') {
        lbUpAgainAt = performance.now();
        log(`${VICTIM_API.server} back in rotation ${round((lbUpAgainAt - restartedAt) / 1000, 1)} s after the restart began`);
        break;
      }
      if (performance.now() - restartedAt > 60_000) break;
      await sleep(200);
    }
  }

  let killing = null as Promise<void> | null;
  let simStart = 0;
  const started = performance.now();
  const report = await simulate(
    {
      base,
      adminToken: config.ADMIN_TOKEN,
      pool,
      temporal,
      observe: (name, status, at) => {
        seen.push({ name, status, at });
        if (name === 'hold' && status === 201) holdsGranted++;
        if (!killing && holdsGranted >= args.killAfterHolds) killing = kill();
      },
      onReady: (eventId) => {
        simStart = performance.now();
        log(`event ${eventId}: accounts ready, the sale opens`);
      },
    },
    simOptions(args.quick),
    (() => {
      let last = 0;
      return (t: string) => {
        if (Date.now() - last < 3000 && t.startsWith('simulating')) return;
        last = Date.now();
        log(t);
      };
    })(),
  );
  const simEnd = performance.now();
  if (killing) await killing;
  running = false;
  await probe;

  // ---- every hold over: the settled audit (no seat left held, no hold active past its window)
  log('waiting for every hold of the event to end, then the settled audit');
  const eventIds = [report.event.eventId];
  const settleDeadline = Date.now() + (30 + config.HOLD_PAYMENT_GRACE_SECONDS + 60) * 1000;
  let settled = await auditDatabase(pool, { eventIds, staleHoldSeconds: 5 });
  while (Date.now() < settleDeadline) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM holds WHERE event_id = $1 AND status = 'active'`,
      eventIds,
    );
    settled = await auditDatabase(pool, { eventIds, staleHoldSeconds: 5 });
    if (rows[0]!.n === 0 && settled.ok) break;
    await sleep(1000);
  }
  const after = await lbServers(statsHttp).catch(() => ({}));

  // ---- the figures
  const failedBefore = seen.filter((s) => FAILED(s.status) && (killAt === null || s.at < killAt));
  const failedAfterKill = killAt === null ? [] : seen.filter((s) => FAILED(s.status) && s.at >= killAt!);
  const windowEnd = killAt === null ? 0 : killAt + 30_000;
  const inWindow = killAt === null ? [] : seen.filter((s) => s.at >= killAt! && s.at < windowEnd);
  const errorsByKind: Record<string, number> = {};
  for (const s of failedAfterKill) errorsByKind[`${s.name} ${s.status}`] = (errorsByKind[`${s.name} ${s.status}`] ?? 0) + 1;
  const lastError = failedAfterKill.length ? Math.max(...failedAfterKill.map((s) => s.at)) : null;
  const firstPurchaseAfterKill = killAt === null ? null : seen.find((s) => s.name === 'purchase' && s.status === 200 && s.at >= killAt!);
  // The probe's recovery: from the kill to the start of the first run of 20 answered probes (2 s) after it.
  let probeRecoveredAt: number | null = null;
  if (killAt !== null) {
    const after = probes.filter((p) => p.at >= killAt!);
    for (let i = 0; i + 20 <= after.length; i++) {
      if (after.slice(i, i + 20).every((p) => p.ok)) {
        probeRecoveredAt = after[i]!.at;
        break;
      }
    }
  }
  const pending = (report.outcomes.human.pending ?? 0) + (report.outcomes.bot.pending ?? 0);
  const ms = (x: number | null | undefined) => (x === null || x === undefined || killAt === null ? null : Math.round(x - killAt));
  const summary = {
    host: { load: os.loadavg().map((x) => round(x, 2)), cores: os.cpus().length },
    event: report.event,
    actors: report.actors,
    outcomes: report.outcomes,
    seconds: { sim: round((simEnd - (simStart || started)) / 1000, 1), total: round((performance.now() - started) / 1000, 1) },
    requests: {
      total: seen.length,
      failedBeforeKill: failedBefore.length,
      inKillWindow30s: inWindow.length,
      failedInKillWindow30s: inWindow.filter((s) => FAILED(s.status)).length,
      /** No answer at all (connection lost, or HAProxy's 502/504): what a kill costs clients. */
      noAnswerInKillWindow30s: inWindow.filter((s) => s.status === 0 || s.status === 502 || s.status === 504).length,
      /** 503 with Retry-After: the surviving replica shedding load it cannot take, by design. */
      shedInKillWindow30s: inWindow.filter((s) => s.status === 503).length,
      failedAfterKill: failedAfterKill.length,
      failedAfterKillByKind: errorsByKind,
      byKind: report.requests,
    },
    kill: {
      afterHolds: args.killAfterHolds,
      atSimSecond: killAt === null ? null : round((killAt - simStart) / 1000, 1),
      processes: killed,
      lbMarkedDownMs: ms(lbDownAt),
      lastClientErrorMs: ms(lastError),
      probeRecoveredMs: ms(probeRecoveredAt),
      probeFailures: probes.filter((p) => !p.ok).length,
      firstPurchaseAfterKillMs: ms(firstPurchaseAfterKill?.at),
      restarted: args.restart,
      restartError,
      restartToBackInRotationMs: restartedAt !== null && lbUpAgainAt !== null ? Math.round(lbUpAgainAt - restartedAt) : null,
    },
    lb: { before, after },
    ticketsSold: report.ticketsSold,
    latency: { hold: report.latency.hold ?? summarize([]), purchase: report.latency.purchase ?? summarize([]) },
    audit: { ok: report.audit.ok, violations: report.audit.violations, totals: report.audit.totals },
    settledAudit: { ok: settled.ok, violations: settled.violations, totals: settled.totals },
    everyBuyerAnswered: pending === 0,
  };

  const file = args.json ?? path.join(STATE, 'rehearsal', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);

  const k = summary.kill;
  const lines = [
    '',
    `Rehearsal on the cluster topology — event ${report.event.eventId}, ${report.event.seats} seats, ${report.actors.humans} humans + ${report.actors.bots} bots`,
    `  machine          load ${summary.host.load.join(' ')}, ${summary.host.cores} cores`,
    `  requests         ${summary.requests.total} by the crowd, ${failedBefore.length} failed before the kill`,
    `  kill             ${VICTIM_API.process} + ${VICTIM_WORKER} (SIGKILL) at sale second ${k.atSimSecond ?? '-'}, after ${args.killAfterHolds} holds`,
    `  HAProxy          ${VICTIM_API.server} DOWN after ${k.lbMarkedDownMs ?? '-'} ms; requests per replica ${JSON.stringify(Object.fromEntries(Object.entries(after).map(([s, v]) => [s, v.requests - (before[s]?.requests ?? 0)])))}`,
    `  client errors    ${summary.requests.failedInKillWindow30s} of ${summary.requests.inKillWindow30s} in the 30 s after the kill: ${summary.requests.noAnswerInKillWindow30s} without an answer (lost with the killed process), ${summary.requests.shedInKillWindow30s} shed (503 + Retry-After by the surviving replica)`,
    `                   after the kill, by request: ${JSON.stringify(errorsByKind)}`,
    `  recovery         last client error ${k.lastClientErrorMs ?? '-'} ms after the kill; probe steady again after ${k.probeRecoveredMs ?? '-'} ms (${k.probeFailures} probes failed); first purchase after the kill at ${k.firstPurchaseAfterKillMs ?? '-'} ms`,
    `  restart          ${args.restart ? (restartError ? `failed: ${restartError.split('\n')[0]}` : `${VICTIM_API.server} back in rotation ${k.restartToBackInRotationMs ?? '-'} ms after the restart began`) : 'not restarted (--no-restart)'}`,
    `  outcomes         humans ${JSON.stringify(report.outcomes.human)}; bots ${JSON.stringify(report.outcomes.bot)}; ${report.ticketsSold} tickets sold`,
    `  every buyer has a final answer: ${summary.everyBuyerAnswered ? 'yes' : `NO (${pending} pending)`} (timed_out: still in the queue when the run ends)`,
    `  audit            ${report.audit.ok ? 'clean' : 'VIOLATIONS'} ${JSON.stringify(report.audit.totals)}${report.audit.ok ? '' : ` ${JSON.stringify(Object.fromEntries(Object.entries(report.audit.violations).filter(([, n]) => n)))}`}`,
    `  settled audit    ${settled.ok ? 'clean' : 'VIOLATIONS'} (every hold ended, no seat held past its window)${settled.ok ? '' : ` ${JSON.stringify(Object.fromEntries(Object.entries(settled.violations).filter(([, n]) => n)))}`}`,
    `  figures          ${file}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  statsHttp.close();
  probeHttp.close();
  await pool.end();
  await temporal.connection.close();
  return report.audit.ok && settled.ok && summary.everyBuyerAnswered && killAt !== null ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
