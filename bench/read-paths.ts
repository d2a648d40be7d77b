/**
 * The waiting room's two hot calls next to the same server's bare endpoint,
 * in alternating slices so that the machine's load (shared cores) falls on
 * all three alike:
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx bench/read-paths.ts [--api http://127.0.0.1:PORT] [--rounds 6] [--slice-ms 1500] [--concurrency 32]
 *
 * Without --api it starts api/server.ts in its own process (as `npm run bench`
 * does). With --against DIR it also starts the API of another checkout (e.g. a
 * worktree at main) and runs every slice against both, back to back, in an
 * order that alternates by round: old and new code side by side under the
 * same load. Each round runs GET /healthz, POST /queue (a new buyer from a new
 * address each time) and GET /queue/me (round-robin over the buyers that
 * joined), one slice each, rotating which goes first. It prints numbers and
 * ratios with the machine's load; it asserts nothing. The slices' requests go
 * through bench/lib/raw-http.ts, so that the API, not the load generator, is
 * the busy process (both print how busy they were).
 *
 * With `--floor SKIP` (repeatable) it also starts bench/read-floor.ts, the
 * API with join and /queue/me answered before the framework by code that
 * does only their irreducible work, and runs the same slices against it.
 * SKIP is "-" for nothing, or a list from verify and redis to drop that part
 * too: `--floor - --floor redis --floor verify,redis` shows what the framework,
 * the Redis call and token verification each cost.
 *
 * `--only` picks slices from healthz, join, me and the seat map's reads on a
 * 50,000-seat event part-way through its sale: status (GET /seats/status,
 * gzip), status304 and layout304 (If-None-Match with the current ETag), e.g.
 * `--only healthz,status,status304,layout304`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HttpClient, clientAddress } from './lib/http';
import { RawHttpClient } from './lib/raw-http';
import { type LoadResult, runLoad } from './lib/load';
import { type ApiProcess, benchConfig, startApiProcess } from './lib/services';
import { midSaleEvent } from './suites/compact-seatmap';
import { mintBuyers, openWaitingRoomEvent } from './suites/http';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const loadavg = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
};

/**
 * CPU seconds (user + system) of a process group: the API started here is tsx
 * and its node child in one group. Per request it is a figure the machine's
 * other load hardly moves, unlike req/s on shared cores.
 */
function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}

const ALL = ['healthz', 'join', 'me', 'status', 'status304', 'layout304'] as const;
type SliceName = (typeof ALL)[number];
interface Total {
  ok: number;
  seconds: number;
  cpu: number;
  /** CPU seconds of this process, the load generator. */
  clientCpu: number;
  other: Record<string, number>;
  p99: number[];
}

interface Target {
  label: string;
  api: ApiProcess;
  close(): void;
  /** Null for a slice this target cannot serve (the line's reads on a floor that keeps no line). */
  run(name: SliceName): Promise<LoadResult> | null;
  totals: Record<SliceName, Total>;
}

/** One API under test: its events and buyers, and a slice of load of each kind against it. */
async function prepare(
  label: string,
  api: ApiProcess,
  names: SliceName[],
  opts: { rounds: number; sliceMs: number; concurrency: number; keepsNoLine?: boolean },
) {
  const { sliceMs, concurrency } = opts;
  const config = benchConfig();
  const http = new HttpClient(api.url, concurrency + 8);
  const eventId = await openWaitingRoomEvent(http, config, 'read-path bench');
  // Enough buyers that joins never run out within a slice: a new buyer for every join, warm-up included, at
  // up to 8,000 joins a second (20,000 on a floor that keeps no line).
  const perSecond = opts.keepsNoLine ? 20_000 : 8_000;
  const buyers = await mintBuyers(config, (Math.ceil((opts.rounds * sliceMs) / 1000) + 2) * perSecond, `rp-${label.replace(/\W+/g, '-')}`);
  let nextJoin = 0;
  let joined = 0;
  const gz = { 'accept-encoding': 'gzip, deflate, br;q=0' };
  let seatPath = '';
  let statusTag = '';
  let layoutTag = '';
  if (names.some((n) => n.startsWith('status') || n === 'layout304')) {
    seatPath = `/v1/events/${(await midSaleEvent(http, config, () => undefined)).eventId}`;
    statusTag = String((await http.request('GET', `${seatPath}/seats/status`, { raw: true })).headers.etag);
    layoutTag = String((await http.request('GET', `${seatPath}/seatmap`, { raw: true })).headers.etag);
  }
  // The slices' load goes through the lean raw client, so that the API, not the load generator, sets the pace.
  const raw = new RawHttpClient(api.url, concurrency + 8);
  const get = (path: string, headers: Record<string, string>, want: number) =>
    runLoad({
      concurrency,
      durationMs: sliceMs,
      op: async () => {
        const status = await raw.request('GET', path, headers);
        return status === want ? 'ok' : `http${status}`;
      },
    });
  const slices: Record<SliceName, () => Promise<LoadResult>> = {
    healthz: () => get('/healthz', {}, 200),
    join: () =>
      runLoad({
        concurrency,
        durationMs: sliceMs,
        maxOps: buyers.length - nextJoin,
        op: async () => {
          const i = nextJoin++;
          const status = await raw.request('POST', `/v1/events/${eventId}/queue`, {
            authorization: `Bearer ${buyers[i]!.token}`,
            'x-forwarded-for': clientAddress(i),
          });
          if (status === 201) joined = Math.max(joined, i + 1);
          return status === 201 || status === 200 ? 'ok' : `http${status}`;
        },
      }),
    me: () =>
      runLoad({
        concurrency,
        durationMs: sliceMs,
        op: async (_l, i) => {
          const status = await raw.request('GET', `/v1/events/${eventId}/queue/me`, {
            authorization: `Bearer ${buyers[i % Math.max(1, joined)]!.token}`,
          });
          return status === 200 ? 'ok' : `http${status}`;
        },
      }),
    status: () => get(`${seatPath}/seats/status`, gz, 200),
    status304: () => get(`${seatPath}/seats/status`, { ...gz, 'if-none-match': statusTag }, 304),
    layout304: () => get(`${seatPath}/seatmap`, { ...gz, 'if-none-match': layoutTag }, 304),
  };
  const totals = Object.fromEntries(
    ALL.map((n): [SliceName, Total] => [n, { ok: 0, seconds: 0, cpu: 0, clientCpu: 0, other: {}, p99: [] }]),
  ) as Record<SliceName, Total>;
  // Warm-up: first buyers in when a slice needs them (otherwise the first slice), JIT warm.
  await slices[names.includes('join') || names.includes('me') ? 'join' : names[0]!]();
  const run = (n: SliceName) => (opts.keepsNoLine && n !== 'healthz' && n !== 'join' ? null : slices[n]());
  const close = () => {
    http.close();
    raw.close();
  };
  return { label, api, close, run, totals } satisfies Target;
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '6'));
  const sliceMs = Number(arg('slice-ms', '1500'));
  const concurrency = Number(arg('concurrency', '32'));
  const only = arg('only', 'healthz,join,me').split(',');
  const names = ALL.filter((n) => only.includes(n));
  const config = benchConfig();
  const loadAtStart = loadavg();
  const apis: { label: string; api: ApiProcess; keepsNoLine?: boolean }[] = [];
  const targets: Target[] = [];
  const floors: string[] = [];
  try {
    if (process.argv.includes('--api')) {
      apis.push({ label: 'api', api: { url: arg('api', ''), pid: Number(arg('api-pgid', '0')), stop: async () => undefined } });
    } else {
      apis.push({ label: 'this', api: await startApiProcess(config) });
    }
    if (process.argv.includes('--against')) {
      const dir = path.resolve(arg('against', ''));
      apis.push({ label: path.basename(dir), api: await startApiProcess(config, {}, dir) });
    }
    // Each --floor adds bench/read-floor.ts as a target; its value names the parts it skips ("-" for none).
    process.argv.forEach((a, i) => {
      if (a !== '--floor') return;
      const skip = (process.argv[i + 1] ?? '-').replace(/^-$/, '');
      floors.push(skip);
    });
    for (const skip of floors) {
      const label = skip ? `floor without ${skip}` : 'floor';
      const api = await startApiProcess(config, { FLOOR_SKIP: skip }, undefined, 'bench/read-floor.ts');
      apis.push({ label, api, keepsNoLine: skip.split(',').includes('redis') });
    }
    for (const { label, api, keepsNoLine } of apis)
      targets.push(await prepare(label, api, names, { rounds, sliceMs, concurrency, keepsNoLine }));
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, k) => names[(k + r) % names.length]!);
      for (const name of order) {
        // Each kind runs against every API back to back, in an order that alternates by round.
        const turn = r % 2 === 0 ? targets : [...targets].reverse();
        for (const t of turn) {
          const cpuBefore = t.api.pid > 0 ? groupCpuSeconds(t.api.pid) : NaN;
          const mine = process.cpuUsage();
          const pending = t.run(name);
          if (!pending) continue;
          const res = await pending;
          const total = t.totals[name];
          total.cpu += (t.api.pid > 0 ? groupCpuSeconds(t.api.pid) : NaN) - cpuBefore;
          const used = process.cpuUsage(mine);
          total.clientCpu += (used.user + used.system) / 1e6;
          total.ok += res.outcomes.ok ?? 0;
          total.seconds += res.seconds;
          total.p99.push(res.latency.p99);
          for (const [k, n] of Object.entries(res.outcomes)) if (k !== 'ok') total.other[k] = (total.other[k] ?? 0) + n;
        }
      }
    }
    const lines = [`read paths, ${rounds} rounds of ${sliceMs} ms slices, ${concurrency} in flight, alternating`];
    for (const t of targets) {
      const rate = (n: SliceName) => t.totals[n].ok / t.totals[n].seconds;
      const cpuPer = (n: SliceName) => (t.totals[n].cpu / Math.max(1, t.totals[n].ok)) * 1e6;
      if (targets.length > 1) lines.push(`${t.label} (${t.api.url})`);
      for (const n of names) {
        if (t.totals[n].seconds === 0) {
          lines.push(`  ${n.padEnd(9)} n/a: this floor keeps no line`);
          continue;
        }
        const other = Object.entries(t.totals[n].other)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ');
        const p99 = t.totals[n].p99.sort((a, b) => a - b)[Math.floor(t.totals[n].p99.length / 2)];
        lines.push(
          `  ${n.padEnd(9)} ${rate(n).toFixed(1).padStart(8)} req/s  ${(rate(n) / rate('healthz')).toFixed(3)}× healthz  ` +
            `p99 (median slice) ${p99} ms  API CPU ${cpuPer(n).toFixed(0)} µs/req (healthz's ÷ this: ${(cpuPer('healthz') / cpuPer(n)).toFixed(3)}), busy ${((t.totals[n].cpu / t.totals[n].seconds) * 100).toFixed(0)}%; load generator busy ${((t.totals[n].clientCpu / t.totals[n].seconds) * 100).toFixed(0)}%` +
            (other ? `  (${other})` : ''),
        );
      }
    }
    lines.push(`machine load (1/5/15 min): ${loadAtStart} at start, ${loadavg()} at end`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    for (const t of targets) t.close();
    await Promise.all(apis.map(({ api }) => api.stop()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`read-paths bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
