/**
 * The waiting room's two hot calls next to the same server's bare endpoint,
 * in alternating slices so that the machine's load (shared cores) falls on
 * all three alike:
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx bench/read-paths.ts [--api http://127.0.0.1:PORT] [--rounds 6] [--slice-ms 1500] [--concurrency 32]
 *
 * Without --api it starts api/server.ts in its own process (as `npm run bench`
 * does). Each round runs GET /healthz, POST /queue (a new buyer from a new
 * address each time) and GET /queue/me (round-robin over the buyers that
 * joined), one slice each, rotating which goes first. It prints numbers and
 * ratios with the machine's load; it asserts nothing.
 *
 * `--only` picks slices from healthz, join, me and the seat map's reads on a
 * 50,000-seat event part-way through its sale: status (GET /seats/status,
 * gzip), status304 and layout304 (If-None-Match with the current ETag), e.g.
 * `--only healthz,status,status304,layout304`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { HttpClient, clientAddress } from './lib/http';
import { type LoadResult, runLoad } from './lib/load';
import { benchConfig, startApiProcess } from './lib/services';
import { midSaleEvent } from './suites/compact-seatmap';
import { mintBuyers } from './suites/http';

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

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '6'));
  const sliceMs = Number(arg('slice-ms', '1500'));
  const concurrency = Number(arg('concurrency', '32'));
  const config = benchConfig();
  const loadAtStart = loadavg();
  const api = process.argv.includes('--api')
    ? { url: arg('api', ''), pid: Number(arg('api-pgid', '0')), stop: async () => undefined }
    : await startApiProcess(config);
  const cpu = () => (api.pid > 0 ? groupCpuSeconds(api.pid) : NaN);
  const http = new HttpClient(api.url, concurrency + 8);
  try {
    const created = await http.json('POST', '/v1/admin/events', {
      token: config.ADMIN_TOKEN,
      body: {
        name: 'read-path bench',
        holdSeconds: 300,
        maxSeatsPerBuyer: 6,
        // The request path's cost alone, as in the quick benchmark; proof of work is measured by bench/adversaries.ts.
        waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60, powDemandDifficulty: 0 },
        sections: [{ id: 'A', name: 'Floor', rows: 10, seatsPerRow: 10, priceCents: 5000 }],
      },
    });
    const eventId = (created.body as { eventId: string }).eventId;
    await http.json('POST', `/v1/admin/events/${eventId}/open`, { token: config.ADMIN_TOKEN });
    // Enough buyers that joins never run out within a slice.
    const buyers = await mintBuyers(config, Math.ceil((rounds * sliceMs) / 1000) * 2000, 'rp');
    let nextJoin = 0;
    let joined = 0;
    const slices = {
      healthz: () =>
        runLoad({
          concurrency,
          durationMs: sliceMs,
          op: async () => ((await http.request('GET', '/healthz')).status === 200 ? 'ok' : 'error'),
        }),
      join: () =>
        runLoad({
          concurrency,
          durationMs: sliceMs,
          maxOps: buyers.length - nextJoin,
          op: async () => {
            const i = nextJoin++;
            const r = await http.request('POST', `/v1/events/${eventId}/queue`, {
              token: buyers[i]!.token,
              headers: { 'x-forwarded-for': clientAddress(i) },
            });
            if (r.status === 201) joined = Math.max(joined, i + 1);
            return r.status === 201 || r.status === 200 ? 'ok' : `http${r.status}`;
          },
        }),
      me: () =>
        runLoad({
          concurrency,
          durationMs: sliceMs,
          op: async (_l, i) => {
            const r = await http.request('GET', `/v1/events/${eventId}/queue/me`, { token: buyers[i % Math.max(1, joined)]!.token });
            return r.status === 200 ? 'ok' : `http${r.status}`;
          },
        }),
    };
    const all = ['healthz', 'join', 'me', 'status', 'status304', 'layout304'] as const;
    const only = arg('only', 'healthz,join,me').split(',');
    const names = all.filter((n) => only.includes(n));
    const gz = { 'accept-encoding': 'gzip, deflate, br;q=0' };
    let seatPath = '';
    let statusTag = '';
    let layoutTag = '';
    if (names.some((n) => n.startsWith('status') || n === 'layout304')) {
      seatPath = `/v1/events/${(await midSaleEvent(http, config, () => undefined)).eventId}`;
      statusTag = String((await http.request('GET', `${seatPath}/seats/status`, { raw: true })).headers.etag);
      layoutTag = String((await http.request('GET', `${seatPath}/seatmap`, { raw: true })).headers.etag);
    }
    const get = (path: string, headers: Record<string, string>, want: number) => () =>
      runLoad({
        concurrency,
        durationMs: sliceMs,
        op: async () => {
          const r = await http.request('GET', path, { headers, raw: true });
          return r.status === want ? 'ok' : `http${r.status}`;
        },
      });
    const seatSlices = {
      status: () => get(`${seatPath}/seats/status`, gz, 200)(),
      status304: () => get(`${seatPath}/seats/status`, { ...gz, 'if-none-match': statusTag }, 304)(),
      layout304: () => get(`${seatPath}/seatmap`, { ...gz, 'if-none-match': layoutTag }, 304)(),
    };
    const totals: Record<(typeof all)[number], { ok: number; seconds: number; cpu: number; other: Record<string, number>; p99: number[] }> =
      {
        healthz: { ok: 0, seconds: 0, cpu: 0, other: {}, p99: [] },
        join: { ok: 0, seconds: 0, cpu: 0, other: {}, p99: [] },
        me: { ok: 0, seconds: 0, cpu: 0, other: {}, p99: [] },
        status: { ok: 0, seconds: 0, cpu: 0, other: {}, p99: [] },
        status304: { ok: 0, seconds: 0, cpu: 0, other: {}, p99: [] },
        layout304: { ok: 0, seconds: 0, cpu: 0, other: {}, p99: [] },
      };
    const run = (name: (typeof all)[number]): Promise<LoadResult> =>
      name === 'healthz' || name === 'join' || name === 'me' ? slices[name]() : seatSlices[name]();
    // Warm-up: first buyers in when a slice needs them (otherwise the first slice), JIT warm.
    await run(names.includes('join') || names.includes('me') ? 'join' : names[0]!);
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, k) => names[(k + r) % names.length]!);
      for (const name of order) {
        const cpuBefore = cpu();
        const res = await run(name);
        const t = totals[name];
        t.cpu += cpu() - cpuBefore;
        t.ok += res.outcomes.ok ?? 0;
        t.seconds += res.seconds;
        t.p99.push(res.latency.p99);
        for (const [k, n] of Object.entries(res.outcomes)) if (k !== 'ok') t.other[k] = (t.other[k] ?? 0) + n;
      }
    }
    const rate = (n: (typeof all)[number]) => totals[n].ok / totals[n].seconds;
    const base = names.includes('healthz') ? rate('healthz') : NaN;
    const cpuPer = (n: (typeof all)[number]) => (totals[n].cpu / Math.max(1, totals[n].ok)) * 1e6;
    const lines = [`read paths, ${rounds} rounds of ${sliceMs} ms slices, ${concurrency} in flight, alternating`];
    for (const n of names) {
      const other = Object.entries(totals[n].other)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      lines.push(
        `  ${n.padEnd(8)} ${rate(n).toFixed(1).padStart(8)} req/s  ${(rate(n) / base).toFixed(3)}× healthz  p99 (median slice) ${totals[n].p99.sort((a, b) => a - b)[Math.floor(totals[n].p99.length / 2)]} ms  API CPU ${cpuPer(n).toFixed(0)} µs/req (healthz's ÷ this: ${(cpuPer('healthz') / cpuPer(n)).toFixed(3)})${other ? `  (${other})` : ''}`,
      );
    }
    lines.push(`machine load (1/5/15 min): ${loadAtStart} at start, ${loadavg()} at end`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    http.close();
    await api.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`read-paths bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
